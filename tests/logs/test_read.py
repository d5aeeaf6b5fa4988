"""The log reader: the format read back, and every malformed or oversized input one line naming file and line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensuslab.errors import UsageError
from consensuslab.logs.event import Event
from consensuslab.logs.read import Limits, parse_event, read_log
from consensuslab.logs.write import write_log, write_per_node


def lines(path, *objs):
    path.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs))
    return str(path)


def test_per_node_files_and_merged_file_give_the_same_log(tmp_path):
    events = [{"node": "a", "seq": 2, "kind": "receive", "link": {"node": "b", "seq": 1}, "clock": 5},
              {"node": "b", "seq": 1, "kind": "send", "msg": {"type": "ping"}},
              {"node": "a", "seq": 1, "kind": "tick", "state": {"x": 1}}]
    merged = read_log([lines(tmp_path / "all.jsonl", *events)])
    write_per_node(str(tmp_path / "split"), events)
    split = read_log([str(tmp_path / "split")])
    for log in (merged, split):
        assert log.nodes == ("a", "b")
        assert [e.seq for e in log.of("a")] == [1, 2]  # each node's events in seq order, whatever the file order
        receive = log.event(("a", 2))
        assert receive.link == ("b", 1) and receive.clock == 5 and log.event(receive.link).msg == {"type": "ping"}
        assert log.of("a")[0].state == {"x": 1}
        assert log.dangling_links() == []


def test_gaps_and_dangling_links_are_reported_not_rejected(tmp_path):
    log = read_log([lines(tmp_path / "x.jsonl", {"node": "a", "seq": 1, "kind": "k"},
                          {"node": "a", "seq": 4, "kind": "k", "link": {"node": "z", "seq": 9}})])
    assert log.gaps() == {"a": 2}
    assert [e.seq for e in log.dangling_links()] == [4]


def test_write_log_is_read_back(tmp_path):
    path = str(tmp_path / "w.jsonl")
    assert write_log(path, [{"node": "n", "seq": 0, "kind": "init"}]) == 1
    assert [e.kind for e in read_log([path])] == ["init"]


@pytest.mark.parametrize("line, words", [
    ("not json", "not a JSON object"),
    ("[1, 2]", "must be a JSON object"),
    ('{"seq": 1, "kind": "k"}', "'node' must be a non-empty string"),
    ('{"node": "", "seq": 1, "kind": "k"}', "'node' must be a non-empty string"),
    ('{"node": "a", "kind": "k"}', "'seq' must be a whole number"),
    ('{"node": "a", "seq": -1, "kind": "k"}', "'seq' must be a whole number"),
    ('{"node": "a", "seq": true, "kind": "k"}', "'seq' must be a whole number"),
    ('{"node": "a", "seq": 1.5, "kind": "k"}', "'seq' must be a whole number"),
    ('{"node": "a", "seq": 99999999999999999999, "kind": "k"}', "'seq' must be a whole number"),
    ('{"node": "a", "seq": 1}', "'kind' must be a non-empty string"),
    ('{"node": "a", "seq": 1, "kind": "k", "clock": "noon"}', "'clock' must be a number"),
    ('{"node": "a", "seq": 1, "kind": "k", "clock": NaN}', "NaN is not a JSON number"),
    ('{"node": "a", "seq": 1, "kind": "k", "link": {"node": "b"}}', "'link' must be"),
    ('{"node": "a", "seq": 1, "kind": "k", "link": {"node": "b", "seq": "3"}}', "'link.seq' must be"),
    ('{"node": "a", "seq": 1, "kind": "k", "x": ' + "[" * 100 + "]" * 100 + "}", "nested deeper than 64"),
    ('{"node": "a", "seq": 1, "kind": "k", "x": ' + "[" * 100000 + "]" * 100000 + "}", "nested deeper"),
    ('{"node": "a", "seq": 1, "kind": "k", "n": ' + "9" * 5000 + "}", "not a JSON object"),
])
def test_malformed_lines_are_one_line_errors_naming_file_and_line(tmp_path, line, words):
    path = lines(tmp_path / "bad.jsonl", {"node": "a", "seq": 0, "kind": "k"}, line)
    with pytest.raises(UsageError) as err:
        read_log([path])
    message = str(err.value)
    assert message.startswith(f"{path}:2: ") and words in message and "\n" not in message


def test_files_and_limits(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        read_log([str(tmp_path / "missing.jsonl")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no"):
        read_log([str(tmp_path / "empty")])
    with pytest.raises(UsageError, match="no events"):
        read_log([lines(tmp_path / "blank.jsonl", "", "  ")])
    dup = lines(tmp_path / "dup.jsonl", {"node": "a", "seq": 1, "kind": "k"}, {"node": "a", "seq": 1, "kind": "j"})
    with pytest.raises(UsageError, match=r"dup.jsonl:2: node 'a' has two events with seq 1 \(the other at .*:1\)"):
        read_log([dup])
    many = lines(tmp_path / "many.jsonl", *({"node": "a", "seq": k, "kind": "k"} for k in range(5)))
    with pytest.raises(UsageError, match="more than 3 events"):
        read_log([many], Limits(events=3))
    with pytest.raises(UsageError, match="at most 10 are read"):
        read_log([many], Limits(file_bytes=10))
    with pytest.raises(UsageError, match="longer than 20 bytes"):
        read_log([many], Limits(line_bytes=20))
    (tmp_path / "bin.jsonl").write_bytes(b'{"node": "\xff"}\n')
    with pytest.raises(UsageError, match="bin.jsonl:1: not UTF-8"):
        read_log([str(tmp_path / "bin.jsonl")])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                              lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(
                                  ["node", "seq", "kind", "link", "clock", "msg"]), c, max_size=6),
                              max_leaves=20).map(lambda v: json.dumps(v).encode())))
def test_any_line_is_an_event_or_a_usage_error(raw):
    try:
        event = parse_event(raw, "f:1")
    except UsageError as exc:
        assert str(exc).startswith("f:1: ") and "\n" not in str(exc)
    else:
        assert isinstance(event, Event) and isinstance(event.node, str) and isinstance(event.seq, int)


def test_gzipped_logs_are_read_and_bounded_uncompressed(tmp_path):
    import gzip

    body = "".join(json.dumps({"node": "a", "seq": k, "kind": "k", "pad": "x" * 100}) + "\n" for k in range(50))
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(body.encode()))
    assert len(read_log([str(tmp_path)])) == 50
    assert path.stat().st_size < 2000  # compresses well: the bound must be on what it inflates to
    with pytest.raises(UsageError, match="more than 3,000 bytes uncompressed"):
        read_log([str(path)], Limits(file_bytes=3000))
    (tmp_path / "bad.jsonl.gz").write_bytes(gzip.compress(body.encode())[:60])
    with pytest.raises(UsageError, match="cannot be read"):
        read_log([str(tmp_path / "bad.jsonl.gz")])
