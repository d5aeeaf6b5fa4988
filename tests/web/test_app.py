"""The browser explorer's server through Flask's test client: every path is a link that rebuilds its state."""

import json

import pytest

from consensuslab.commands.replay import replay_file
from consensuslab.protocols import configure

from paths import TRACES

from consensuslab.web.app import create_app, link

NO_WAIT = ["RMChooseToAbort(r1)", "RMPrepare(r2)", "TMRcvPrepared(r2)", "TMCommit", "RMRcvCommitMsg(r2)"]


@pytest.fixture()
def client():
    return create_app(configure("two-phase", {"rm": 2}, "no-wait").compile()).test_client()


def test_a_path_in_the_address_is_rebuilt_with_actions_properties_and_chart(client):
    got = client.get("/api/view" + link(0, NO_WAIT[:4])).get_json()
    assert got["step"] == 4 and [p["action"] for p in got["path"]] == ["initial state"] + NO_WAIT[:4]
    assert [a["label"] for a in got["actions"]] == ["RMRcvCommitMsg(r1)", "RMRcvCommitMsg(r2)"]
    assert got["actions"][1]["link"] == link(0, NO_WAIT)
    assert got["changes"] == ["tmState: init -> committed", "msgs: +Commit()"]
    assert got["who"] == "TM: sends Commit to r1, r2"
    assert got["violation"] is None and 'data-step="4"' in got["chart"] and "L_" not in got["chart"]
    last = client.get("/api/view" + got["actions"][1]["link"]).get_json()
    assert last["violation"]["property"] == "TCConsistent"
    assert {p["name"]: p["verdict"] for p in last["properties"]}["TCConsistent"] == "VIOLATED"
    assert "step 4: the TM decided commit having Prepared from r2, not from r1" in last["notes"]
    assert [x["name"] for x in last["tree"]["children"]] == ["rmState", "tmState", "tmPrepared", "msgs"]


def test_the_saved_itf_replays_and_bad_paths_are_one_line_errors(client, tmp_path):
    resp = client.get("/api/itf" + link(0, NO_WAIT))
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    path = tmp_path / "walk.itf.json"
    path.write_text(resp.get_data(as_text=True))
    assert json.loads(path.read_text())["#meta"]["property"] == "TCConsistent"
    assert replay_file(str(path)).exit_code == 12
    bad = client.get("/api/view" + link(0, ["TMCommit"]))
    assert bad.status_code == 400 and bad.get_json() == {"error": "step 1: 'TMCommit' is not enabled after step 0"}
    assert client.get("/api/view?i=7").status_code == 400
    page = client.get("/")
    assert page.status_code == 200 and b"two-phase explorer" in page.data and b"/api/view" in page.data


def test_a_loaded_trace_is_listed_and_its_next_action_marked():
    done = replay_file(str(TRACES / "two-phase-no-wait.itf.json"))
    client = create_app(done.model, done.trace).test_client()
    got = client.get("/api/view" + link(0, [str(a) for a in done.trace.actions[:2]])).get_json()
    assert got["trace"]["length"] == len(done.trace) and got["trace"]["position"] == 2
    marked = [a["label"] for a in got["actions"] if a["trace"]]
    assert marked == [str(done.trace.actions[2])]
    off = client.get("/api/view" + link(0, ["TMAbort"])).get_json()
    assert off["trace"]["position"] is None and not any(a["trace"] for a in off["actions"])
