"""Every counterexample saved under tests/traces/ still replays to its violation."""

import json

import pytest

from consensuslab.commands.replay import replay_file
from consensuslab.errors import EXIT_DEADLOCK, EXIT_LIVENESS, EXIT_SAFETY

from paths import TRACES

SAVED = sorted(TRACES.glob("*.itf.json"))
EXIT = {"invariant": EXIT_SAFETY, "transition": EXIT_SAFETY, "deadlock": EXIT_DEADLOCK, "liveness": EXIT_LIVENESS}


def test_there_are_saved_traces():
    assert len(SAVED) >= 3


@pytest.mark.parametrize("path", SAVED, ids=[p.name for p in SAVED])
def test_saved_trace_replays(path):
    meta = json.loads(path.read_text())["#meta"]
    done = replay_file(str(path))
    assert done.violation.property == meta["property"]
    assert done.exit_code == EXIT[meta["kind"]]
