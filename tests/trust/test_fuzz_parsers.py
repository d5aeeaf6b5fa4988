"""Every parser of a file a user hands us, fuzzed (item 5 of the trust issue).

The contract: any input gives a valid result, or a ``ConsensuslabError`` whose
message is one line (the command line prints it and exits 2; a trace that
does not replay is ``ReplayError``, exit 1, also a result); never another
exception.  Inputs are arbitrary bytes and JSON, and mutations of real files
(a saved trace, a history, a Stellar network, a checkpoint), so that the
examples get past the first shape checks.

Examples per test: a CI-sized count (``CI_EXAMPLES``: 625 in all, with the command-line test) under the default and
``consensuslab-ci`` profiles; the profile's own count when it asks for more (``pytest
--hypothesis-profile consensuslab-nightly tests/trust/test_fuzz_parsers.py``: 5,000 a test).  Implementation
logs will join ``PARSERS``-style tests here when their validation exists:
write one ``test_*`` that feeds the log reader arbitrary text and mutated
real logs, and holds it to ``outcome`` below.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paths import DATA, TRACES

from consensuslab.errors import ConsensuslabError

#: examples a test runs in CI: the Stellar snapshot (1,000 nodes) costs a third of a second each
CI_EXAMPLES = {"traces": 100, "trace_files": 100, "histories": 100, "networks": 100, "stellar": 25, "checkpoints": 100}


def fuzz(kind: str) -> settings:
    """``CI_EXAMPLES[kind]`` examples, or the active profile's count when it asks for more (nightly)."""
    active = settings.default.max_examples
    return settings(max_examples=active if active > 100 else CI_EXAMPLES[kind], deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


leaves = st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=16)


def outcome(fn, *args):
    """``fn(*args)``: a result, or a one-line ConsensuslabError (returned); anything else fails the test."""
    try:
        return fn(*args)
    except ConsensuslabError as exc:
        assert "\n" not in str(exc) and str(exc), repr(exc)
        return exc


def mutated(draw, doc, depth: int = 0):
    """``doc`` with one node replaced by arbitrary JSON, one key dropped, or one list shortened."""
    if depth > 12 or not isinstance(doc, (dict, list)) or not doc or draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    if isinstance(doc, dict):
        key = draw(st.sampled_from(sorted(doc)))
        out = dict(doc)
        if draw(st.integers(0, 5)) == 0:
            del out[key]
        else:
            out[key] = mutated(draw, doc[key], depth + 1)
        return out
    i = draw(st.integers(0, len(doc) - 1))
    if draw(st.integers(0, 5)) == 0:
        return doc[:i] + doc[i + 1:]
    return doc[:i] + [mutated(draw, doc[i], depth + 1)] + doc[i + 1:]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


# -- ITF traces: read, the model they name built, replayed -------------------------------------------
TRACE_FILES = ["two-phase-no-wait.itf.json", "hash-chain-unlinked.itf.json", "raft-no-gst.itf.json",
               "pbft-three-f.itf.json"]


def replay_text(path, text):
    from consensuslab.commands.replay import replay_file

    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return outcome(replay_file, str(path))


@fuzz("traces")
@given(data=st.data())
def test_fuzz_mutated_traces(scratch, data):
    base = json.loads((TRACES / data.draw(st.sampled_from(TRACE_FILES))).read_text())
    doc = mutated(data.draw, base)
    replay_text(scratch / "t.itf.json", json.dumps(doc))


@fuzz("trace_files")
@given(text=st.text(max_size=200) | json_values.map(json.dumps) | st.binary(max_size=100))
def test_fuzz_arbitrary_trace_files(scratch, text):
    replay_text(scratch / "t.itf.json", text)


# -- histories -------------------------------------------------------------------------------------
HISTORY_FILES = ["stale-read.json", "concurrent-writes.json", "kv-stale-read.json", "cas-both-succeed.json"]


@fuzz("histories")
@given(data=st.data(), model=st.sampled_from(["register", "cas-register", "kv"]))
def test_fuzz_histories(scratch, data, model):
    from consensuslab.histories.history import load_history
    from consensuslab.histories.linearizability import check

    if data.draw(st.booleans()):
        base = json.loads((DATA / "histories" / data.draw(st.sampled_from(HISTORY_FILES))).read_text())
        text = json.dumps(mutated(data.draw, base))
    else:
        text = data.draw(st.text(max_size=200) | json_values.map(json.dumps))
    path = scratch / "h.json"
    path.write_text(text)
    ops = outcome(load_history, path, model)
    if not isinstance(ops, ConsensuslabError):
        verdict = outcome(lambda: check(ops, model, minimize_seconds=0.5, time_limit=5))
        assert isinstance(verdict, ConsensuslabError) or verdict.status in ("ok", "violation", "unknown")


# -- FBAS networks ---------------------------------------------------------------------------------
def small_network(draw):
    keys = [f"N{i}" for i in range(draw(st.integers(1, 6)))]

    def qset(depth):
        return {"threshold": draw(st.integers(-1, 4)), "validators": draw(st.lists(st.sampled_from(keys), max_size=4)),
                "innerQuorumSets": [qset(depth + 1) for _ in range(draw(st.integers(0, 2 if depth < 2 else 0)))]}
    return [{"publicKey": k, "quorumSet": qset(0) if draw(st.booleans()) else None} for k in keys]


@fuzz("networks")
@given(data=st.data())
def test_fuzz_networks(scratch, data):
    from consensuslab.checkers.quorum.fbas import load_stellar
    from consensuslab.checkers.quorum.queries import check_requirement
    from consensuslab.checkers.quorum.systems import Intersection

    doc = mutated(data.draw, small_network(data.draw)) if data.draw(st.booleans()) else small_network(data.draw)
    path = scratch / "net.json"
    path.write_text(json.dumps(doc))
    fb = outcome(load_stellar, path)
    if not isinstance(fb, ConsensuslabError):
        result = outcome(check_requirement, fb, Intersection(), 2.0)
        assert isinstance(result, ConsensuslabError) or result.status in ("holds", "violated", "unknown")


@fuzz("stellar")
@given(data=st.data())
def test_fuzz_the_stellar_snapshot(scratch, data):
    from consensuslab.checkers.quorum.fbas import load_stellar

    base = json.loads((DATA / "stellar-pubnet-2025-07-20.json").read_text())
    path = scratch / "stellar.json"
    path.write_text(json.dumps(mutated(data.draw, base)))
    outcome(load_stellar, path)


# -- checkpoints -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A saved search of two-phase rm=3 (288 states, 1,145 generated, depth 10 when finished)."""
    from consensuslab.checkers.scale.checkpoint import check_checkpointed
    from consensuslab.protocols.two_phase import TwoPhase

    d = tmp_path_factory.mktemp("ck")
    r = check_checkpointed(TwoPhase({"rm": 3}).compile(), str(d), max_states=100, progress=False)
    assert r.extra["checkpoint_saved"]
    return {p.relative_to(d): p.read_bytes() for p in d.rglob("*") if p.is_file()}


@fuzz("checkpoints")
@given(data=st.data())
def test_fuzz_checkpoints(tmp_path_factory, checkpoint, data):
    """A corrupted checkpoint is refused in one line, or (a change that does not matter) resumes to the exact
    uninterrupted result; never another exception, never a resumed search that ends with other counts."""
    from consensuslab.checkers.scale.checkpoint import check_checkpointed
    from consensuslab.protocols.two_phase import TwoPhase

    d = tmp_path_factory.mktemp("ckf")
    files = dict(checkpoint)
    name = data.draw(st.sampled_from(sorted(files, key=str)))
    blob = files[name]
    if name.suffix == ".json":
        doc = json.loads(blob)
        blob = json.dumps(mutated(data.draw, doc)).encode() if data.draw(st.booleans()) else \
            data.draw(st.binary(max_size=64))
    else:
        at = data.draw(st.integers(0, max(len(blob) - 1, 0)))
        blob = blob[:at] + data.draw(st.binary(max_size=16)) + blob[at + data.draw(st.integers(0, 16)):]
    files[name] = blob
    for rel, content in files.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(content)
    r = outcome(check_checkpointed, TwoPhase({"rm": 3}).compile(), str(d), None, None, None, None, None, False)
    if not isinstance(r, ConsensuslabError):
        assert (r.status, r.distinct_states, r.states_generated, r.depth) == ("ok", 288, 1145, 10)


# -- the same files through the command line: a verdict's exit code, or one line and exit 2 ---------------
COMMANDS = {
    "trace show": (["trace", "show", "{f}"], {0, 1}),  # shown, or the step that does not re-execute (1)
    "replay": (["replay", "{f}"], {1, 11, 12, 13}),  # reproduced (the violation's code) or not (1)
    "linearizable": (["linearizable", "{f}", "--model", "register", "--time-limit", "5"], {0, 3, 12}),
    "quorum": (["quorum", "check", "--system", "fbas", "--file", "{f}", "--time-limit", "5"], {0, 3, 12}),
}


@fuzz("trace_files")
@given(data=st.data(), verb=st.sampled_from(sorted(COMMANDS)))
def test_fuzz_files_through_the_command_line(scratch, data, verb):
    import contextlib
    import io

    from consensuslab.cli import main

    if verb in ("trace show", "replay") and data.draw(st.booleans()):
        doc = mutated(data.draw, json.loads((TRACES / data.draw(st.sampled_from(TRACE_FILES))).read_text()))
    elif verb == "quorum" and data.draw(st.booleans()):
        doc = small_network(data.draw)
    else:
        doc = data.draw(json_values)
    path = scratch / "input.json"
    path.write_text(json.dumps(doc) if data.draw(st.integers(0, 9)) else data.draw(st.text(max_size=50)))
    args, verdicts = COMMANDS[verb]
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main([a.format(f=path) for a in args])
    if code not in verdicts:
        assert code == 2, (code, err.getvalue())
        lines = [line for line in err.getvalue().splitlines() if not line.startswith("warning:")]
        assert len(lines) == 1 and lines[0].startswith("error: "), err.getvalue()
