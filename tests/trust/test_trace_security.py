"""A trace is data: reading one never runs code the user did not name (item 1 of the trust issue).

A trace of a user's protocol records the file's absolute path and SHA-256;
``replay``, ``trace show``, ``trace minimize`` and ``explore --trace`` refuse to
import it unless the user passes it with ``--protocol``, in one line saying
how.  The JSON itself is read within bounds of size and nesting.
"""

import json
import os

import pytest

from hostile import SPEC, one_line, run

#: a protocol file that, when imported, leaves a mark: the proof that a trace ran it
MARKING = 'open(__file__ + ".ran", "w").write("imported")\n'


@pytest.fixture
def user_trace(tmp_path):
    """(protocol file, trace file) of a counterexample of a user's protocol."""
    src = tmp_path / "proto" / "mine.py"
    src.parent.mkdir()
    src.write_text(MARKING + SPEC.replace("        return True\n", "        return s.n < 2\n"))
    trace = tmp_path / "cex.itf.json"
    proc, _ = run("check", src, "--trace-out", trace, "--quiet")
    assert proc.returncode == 12, proc.stderr
    os.unlink(f"{src}.ran")  # checking it ran it, as the user asked
    return src, trace


@pytest.mark.parametrize("verb", [["replay"], ["trace", "show"], ["trace", "minimize"]])
def test_a_trace_naming_a_file_is_refused_without_running_it(user_trace, tmp_path, verb):
    src, trace = user_trace
    proc, _ = run(*verb, trace, cwd=tmp_path)
    assert proc.returncode == 2
    line = one_line(proc)
    assert line == (f"error: this trace is of a protocol defined in {src} (class Hostile); replaying it runs "
                    f"that file: pass --protocol {src}:Hostile")
    assert not os.path.exists(f"{src}.ran"), "reading the trace imported the file it names"


def test_explore_with_a_trace_runs_only_the_protocol_named_on_the_command_line(user_trace, tmp_path):
    src, trace = user_trace
    proc, _ = run("explore", "two-phase", "--trace", trace, cwd=tmp_path)
    assert proc.returncode == 2 and "the trace is of hostile, not two-phase" in one_line(proc)
    assert not os.path.exists(f"{src}.ran")


def test_passing_the_file_replays_from_any_directory_and_notices_a_changed_file(user_trace, tmp_path):
    src, trace = user_trace
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc, _ = run("replay", trace, "--protocol", f"{src}:Hostile", "--quiet", cwd=elsewhere)
    assert proc.returncode == 12 and "reproduced: fine" in proc.stdout, proc.stderr
    assert proc.stderr == ""
    src.write_text(src.read_text() + "\n# edited\n")
    proc, _ = run("replay", trace, "--protocol", str(src), "--quiet", cwd=elsewhere)
    assert proc.returncode == 12
    assert f"warning: {src}:Hostile has changed since the trace was written" in proc.stderr


def test_a_module_protocol_is_named_as_a_module(tmp_path):
    doc = {
        "#meta": {"format": "ITF", "protocol": "hostile", "protocol_source": "evil_pkg.evil:Hostile",
                  "kind": "invariant", "property": "fine", "params": {}},
        "vars": ["n"], "states": [{"#meta": {"index": 0}, "n": {"#bigint": "0"}}]}
    path = tmp_path / "t.itf.json"
    path.write_text(json.dumps(doc))
    proc, _ = run("replay", path)
    assert proc.returncode == 2
    assert one_line(proc).endswith("defined in module evil_pkg.evil (class Hostile); replaying it imports "
                                   "that module: pass --protocol evil_pkg.evil:Hostile")


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("[" * 100_000 + "]" * 100_000), "nests deeper than 200 levels"),
    (lambda p: p.write_text('{"a": ' * 5000 + "1" + "}" * 5000), "nests deeper than 200 levels"),
    (lambda p: p.symlink_to("/dev/zero"), "is not a regular file"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"\xff\xfe{}"), "is not UTF-8 text"),
    (lambda p: p.write_text('{"states": [1e999999999999]}'), "has no '#meta.protocol'"),
    (lambda p: p.write_text("[" + "9" * 5000 + "]"), "is not usable JSON"),
])
def test_a_hostile_trace_file_is_one_line(tmp_path, make, message):
    path = tmp_path / "t.itf.json"
    make(path)
    for verb in (["replay"], ["trace", "show"]):
        proc, seconds = run(*verb, path, timeout=60)
        assert proc.returncode == 2
        assert message in one_line(proc)


def test_reads_are_bounded_in_size(tmp_path):
    from consensuslab.errors import UsageError
    from consensuslab.files import read_json

    path = tmp_path / "big.json"
    path.write_text("[" + "0," * 600 + "0]")
    with pytest.raises(UsageError, match="larger than"):
        read_json(path, "trace file", max_bytes=1000)
    assert len(read_json(path, "trace file", max_bytes=2000)) == 601
