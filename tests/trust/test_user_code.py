"""A user's protocol that misbehaves: loops for ever, exits, draws random numbers, answers with a string.

Each ends in one line naming protocol, role and method (exit 2), or, for a
step that never returns, in the result covered so far within the time limit
(exit 3); none may end in exit 0 or hang.
"""

import re

import pytest

from hostile import actor, one_line, run, spec

#: the time-limit tests allow this much past the limit for starting Python and printing
STARTUP = 4.0


def test_a_step_that_loops_for_ever_is_ended_by_the_time_limit(tmp_path):
    path = spec(tmp_path, "        if s.n < 3000:\n", "        while s.n == 2500:\n            pass\n        if s.n < 3000:\n")
    proc, seconds = run("check", path, "--time-limit", "3", "--quiet", "--json", timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert '"status": "incomplete"' in proc.stdout and '"stopped_by": "time-limit"' in proc.stdout
    assert seconds < 3 + STARTUP


def test_a_loop_in_the_first_states_is_ended_too(tmp_path):
    """The lint explores the first states before the search: it is bounded by the same limit."""
    path = spec(tmp_path, "        if s.n < 3000:\n", "        while s.n == 2:\n            pass\n        if s.n < 3000:\n")
    proc, seconds = run("check", path, "--time-limit", "2", "--quiet", timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert "INCOMPLETE" in proc.stdout and "time-limit" in proc.stdout
    assert seconds < 2 + STARTUP


def test_simulate_of_a_handler_that_loops_for_ever_ends_at_the_time_limit(tmp_path):
    path = actor(tmp_path, "        return just(Node(pings=s.pings + 1))\n",
                 "        while s.pings == 1:\n            pass\n        return just(Node(pings=s.pings + 1))\n")
    proc, seconds = run("simulate", path, "--time-limit", "2", "--json", timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert '"stopped_by": "time-limit"' in proc.stdout
    assert seconds < 2 + STARTUP


def test_sys_exit_in_a_handler_is_an_error_naming_protocol_role_and_method(tmp_path):
    path = actor(tmp_path, "        return just(Node(pings=s.pings + 1))\n",
                 "        sys.exit()\n")
    proc, _ = run("check", path)
    assert proc.returncode == 2
    line = one_line(proc)
    assert "ping-pong: role b, method b_on_ping called sys.exit()" in line and "ping.py:" in line


def test_sys_exit_deep_in_the_search_is_named_too(tmp_path):
    """Past the states the lint explores, the escape reaches the command line, which names it."""
    path = spec(tmp_path, "        if s.n < 3000:\n", "        if s.n == 2500:\n            sys.exit(0)\n        if s.n < 3000:\n")
    proc, _ = run("check", path, "--engine", "interpreted")
    assert proc.returncode == 2
    line = one_line(proc)
    assert "hostile: method Inc called sys.exit(0)" in line and "hostile.py:" in line


def test_a_step_drawing_random_numbers_is_reported_as_not_deterministic(tmp_path):
    path = spec(tmp_path, "            return S(s.n + 1)\n", "            return S(s.n + random.randint(1, 3))\n")
    proc, _ = run("check", path)
    assert proc.returncode == 2
    line = one_line(proc)
    assert "hostile: not deterministic (action Inc)" in line and "random" in line


def test_a_property_answering_a_string_is_refused(tmp_path):
    path = spec(tmp_path, "        return True\n", "        return 'False'\n")
    proc, _ = run("check", path)
    assert proc.returncode == 2
    assert "hostile: property fine returned 'False' (a str), not a bool" in one_line(proc)


def test_a_property_answering_a_string_is_refused_by_every_engine():
    """Registry-style models are not linted: the engines' own evaluation refuses it."""
    from tiny_models import Ring

    from consensuslab.checkers.run import check
    from consensuslab.errors import ModelError

    class Stringly(Ring):
        name = "stringly"

        def not_bad(self, s):
            return "False" if s.n == 3 else True
        not_bad.__consensuslab_property__ = ("always", {})

    for options in ({"engine": "interpreted"}, {"symmetry": False, "workers": 1, "engine": "interpreted",
                                                 "search": "dfs"}):
        with pytest.raises(ModelError, match=re.escape("property not_bad returned 'False' (a str)")):
            check(Stringly().compile(), progress=False, **options)


def test_an_init_drawing_random_numbers_is_reported_as_not_deterministic(tmp_path):
    """The initial states are computed once for the whole run; the lint still computes them twice to compare."""
    path = spec(tmp_path, "        yield S(0)\n", "        yield S(random.randint(0, 10 ** 9))\n")
    proc, _ = run("check", path)
    assert proc.returncode == 2
    line = one_line(proc)
    assert "hostile: not deterministic: two calls gave different initial states" in line


def test_seconds_count_the_lint_and_the_initial_states_too(tmp_path):
    """A spec's own ``init`` may be slow (TLA+'s ``ISpec`` enumerates a state space): the time before the search,
    the lint with the first computation of the initial states, is part of ``seconds``."""
    import json

    path = spec(tmp_path, "        yield S(0)\n", "        import time\n        time.sleep(0.6)\n        yield S(0)\n")
    proc, wall = run("check", path, "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["lint_seconds"] >= 0.6
    assert result["lint_seconds"] < result["seconds"] <= wall
