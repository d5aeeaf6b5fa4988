"""Set- and tuple-valued parameters: parsed from ``-p k=a,b,c``, given as Python values in the library."""

import json
from typing import NamedTuple

import pytest

from consensuslab import Param, Spec, UsageError, action, always, check, record
from consensuslab.checkers.replay import replay_document
from consensuslab.traces.itf import trace_document

from clirun import cli


def test_collections_parse_from_the_command_line_text():
    nodes = Param(("a", "b", "c"), "the nodes", min=1)
    faulty = Param(frozenset({0}), "the faulty replicas", of=int, max=2)
    assert nodes.parse("nodes", "x, y") == ("x", "y")
    assert faulty.parse("faulty", "2,0") == frozenset({0, 2})
    assert faulty.parse("faulty", "") == frozenset()
    assert Param((1, 2), "ints").parse("p", "3,1,3") == (3, 1, 3)  # a tuple keeps order and repeats


def test_collections_given_as_python_values_are_checked():
    faulty = Param(frozenset({0}), "the faulty replicas", of=int)
    assert faulty.validate("faulty", [1, 2]) == frozenset({1, 2})
    with pytest.raises(UsageError, match=r"^parameter faulty: element 'x' is not an integer$"):
        faulty.validate("faulty", {"x"})
    with pytest.raises(UsageError, match=r"^parameter nodes=\{'a'\}: expected a tuple \(an ordered sequence\), not a set$"):
        Param(("a",), "").validate("nodes", {"a"})
    with pytest.raises(UsageError, match=r"^parameter faulty='x,1': expected comma-separated integers, e.g. -p faulty=0,2$"):
        faulty.parse("faulty", "x,1")
    with pytest.raises(UsageError, match=r"^parameter nodes: 0 elements; expected at least 1$"):
        Param(("a",), "", min=1).parse("nodes", "")
    with pytest.raises(UsageError, match=r"^parameter v: element 'z' is not valid; valid elements are a, b$"):
        Param(("a",), "", choices=("a", "b")).parse("v", "a,z")


@record
class Seen(NamedTuple):
    visited: frozenset


class Walk(Spec):
    name = "walk"
    params = {"nodes": Param(("a", "b", "c"), "the nodes to visit", min=1),
              "bad": Param(frozenset(), "nodes that must not be visited")}

    def init(self):
        yield Seen(frozenset())

    @action(n="nodes")
    def Visit(self, s, n):
        if n not in s.visited:
            return s._replace(visited=s.visited | {n})

    def done(self, s):
        return len(s.visited) == len(self.nodes)

    @always
    def avoids_bad(self, s):
        return not (s.visited & self.bad)


def test_a_set_parameter_in_a_trace_replays(tmp_path):
    model = Walk({"nodes": ["a", "b"], "bad": {"b"}}).compile()
    assert model.params == {"nodes": ("a", "b"), "bad": frozenset({"b"})}
    r = check(model, progress=False)
    assert r.status == "violation"
    doc = trace_document(model, r.violation.trace, r.violation)
    assert json.loads(json.dumps(doc))["#meta"]["params"] == {"nodes": ["a", "b"], "bad": ["b"]}
    assert replay_document(doc, Walk({"nodes": ["a", "b"], "bad": {"b"}}).compile()).violation.property == "avoids_bad"


def test_the_command_line_takes_sets_and_tuples(tmp_path):
    spec = tmp_path / "walk_spec.py"
    spec.write_text('''
from typing import NamedTuple
from consensuslab import Param, Spec, action, always, record

@record
class Seen(NamedTuple):
    visited: frozenset

class Walk(Spec):
    name = "walk"
    params = {"nodes": Param(("a", "b", "c"), "the nodes to visit", min=1),
              "bad": Param(frozenset(), "nodes that must not be visited")}

    def init(self):
        yield Seen(frozenset())

    @action(n="nodes")
    def Visit(self, s, n):
        if n not in s.visited:
            return s._replace(visited=s.visited | {n})

    def done(self, s):
        return len(s.visited) == len(self.nodes)

    @always
    def avoids_bad(self, s):
        return not (s.visited & self.bad)
''')
    ok = cli("check", spec, "-p", "nodes=x,y,z,w", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["distinct_states"] == 16
    trace = tmp_path / "t.itf.json"
    found = cli("check", spec, "-p", "nodes=x,y", "-p", "bad=y", "--trace-out", trace, "--quiet")
    assert found.returncode == 12
    again = cli("replay", trace, "--quiet")
    assert again.returncode == 12, again.stderr
    wrong = cli("check", spec, "-p", "nodes=")
    assert wrong.returncode == 2 and wrong.stderr.strip().endswith("parameter nodes: 0 elements; expected at least 1")
