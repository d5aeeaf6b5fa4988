"""Files we write survive faults, files we read back are not trusted (item 4 of the trust issue).

Every output is written atomically; a write that fails (full disk, a
directory nobody may create files in, a missing directory, a directory named
as the file) does not lose the verdict: it is printed, and the failure is one
more line, exit 2.  A checkpoint save can be cut at any point and the
previous checkpoint still resumes to the exact counts; a tampered or corrupt
checkpoint is one line, never a resumed search.
"""

import builtins
import hashlib
import json
import os

import pytest

from hostile import one_line, run

from consensuslab.checkers.scale.checkpoint import check_checkpointed
from consensuslab.errors import UsageError
from consensuslab.protocols.two_phase import TwoPhase


class _Files:
    """``checkpoint_files``, imported when first used (so that the other tests run on any version)."""

    def __getattr__(self, name):
        from consensuslab.checkers.scale import checkpoint_files

        return getattr(checkpoint_files, name)


files = _Files()

#: destinations a write must fail on: a full disk, a directory no one may create files in (procfs, so that
#: it holds for root as well), a missing directory, and a directory named as the file
UNWRITABLE = ["/dev/full", "/proc/self/out.json", "{tmp}/missing/out.json", "{tmp}"]


@pytest.mark.parametrize("dest", UNWRITABLE)
def test_a_trace_that_cannot_be_written_keeps_the_verdict(tmp_path, dest):
    dest = dest.format(tmp=tmp_path)
    proc, _ = run("check", "two-phase", "--variant", "no-wait", "--quiet", "--trace-out", dest)
    assert proc.returncode == 2
    assert "VIOLATION - TCConsistent (invariant)" in proc.stdout  # the result is not lost
    assert one_line(proc).startswith(f"error: cannot write trace '{dest}': ")
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary file left behind


def test_a_read_only_directory_when_permissions_apply(tmp_path):
    if os.geteuid() == 0:  # root writes anywhere: the procfs case above covers it
        return
    tmp_path.chmod(0o555)
    try:
        proc, _ = run("check", "two-phase", "--variant", "no-wait", "--quiet", "--trace-out", tmp_path / "t.json")
    finally:
        tmp_path.chmod(0o755)
    assert proc.returncode == 2 and "VIOLATION" in proc.stdout and "Permission denied" in one_line(proc)


@pytest.mark.parametrize("dest", UNWRITABLE)
def test_minimize_output_and_junit_report_fail_in_one_line(tmp_path, dest):
    from paths import TRACES

    dest = dest.format(tmp=tmp_path)
    proc, _ = run("trace", "minimize", TRACES / "two-phase-no-wait.itf.json", "-o", dest, "--quiet")
    assert proc.returncode == 2 and "minimised" in proc.stdout
    assert one_line(proc).startswith(f"error: cannot write trace '{dest}'")
    proc, _ = run("check-all", "--protocol", "two-phase", "--scenario", "default", "--junit", dest)
    assert proc.returncode == 2 and "1 scenarios: 1 passed" in proc.stdout
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("check-all: ")]  # its plan
    assert len(errors) == 1 and errors[0].startswith(f"error: cannot write JUnit report '{dest}'"), proc.stderr


def test_a_checkpoint_that_cannot_be_saved_keeps_the_result(tmp_path):
    proc, _ = run("check", "two-phase", "-p", "rm=5", "--max-states", "100", "--checkpoint", "/proc/self/ck")
    assert proc.returncode == 2 and "INCOMPLETE" in proc.stdout
    assert one_line(proc).startswith("error: cannot save checkpoint in '/proc/self/ck'")


# -- checkpoints: a crash at any moment of a save loses nothing ---------------------------------------
class Crash(BaseException):
    """What kill -9 does to a save, as seen by the files: everything after this point never happens."""


def crash_at(monkeypatch, n: int):
    """Make the ``n``-th file-system write of a save (opening a file for writing, a rename) crash."""
    count = [0]
    real_open, real_replace, real_fdopen = builtins.open, os.replace, os.fdopen

    def tick():
        count[0] += 1
        if count[0] == n:
            raise Crash

    def fake_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax"):
            tick()
        return real_open(file, mode, *args, **kwargs)

    def fake_fdopen(fd, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax"):
            tick()
        return real_fdopen(fd, mode, *args, **kwargs)

    def fake_replace(*args, **kwargs):
        tick()
        return real_replace(*args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "fdopen", fake_fdopen)
    monkeypatch.setattr(os, "replace", fake_replace)
    return count


@pytest.mark.parametrize("n", range(1, 9))
def test_a_crash_during_a_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch, n):
    """two-phase rm=5: 8,832 states, 58,145 generated, depth 16 when uninterrupted."""
    model = TwoPhase({"rm": 5}).compile()
    first = check_checkpointed(model, str(tmp_path), max_states=1000, progress=False)
    assert first.extra["checkpoint_saved"]
    with monkeypatch.context() as m:
        crash_at(m, n)
        try:
            check_checkpointed(TwoPhase({"rm": 5}).compile(), str(tmp_path), max_states=3000, progress=False)
        except Crash:
            pass
    done = check_checkpointed(TwoPhase({"rm": 5}).compile(), str(tmp_path), progress=False)
    assert (done.status, done.distinct_states, done.states_generated, done.depth) == ("ok", 8832, 58145, 16)
    assert done.extra["resumed"]


# -- checkpoints: read as untrusted input -------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    model = TwoPhase({"rm": 5}).compile()
    r = check_checkpointed(model, str(tmp_path), max_states=2000, progress=False)
    assert r.extra["checkpoint_saved"]
    return tmp_path


def header(d):
    return json.loads((d / files.HEADER).read_text())


def rewrite(d, doc, arrays: dict | None = None):
    """Write ``doc`` (and arrays) back with every hash recomputed, as a forger would."""
    gen = d / doc["generation"]
    for name, values in (arrays or {}).items():
        blob = files._to_bytes(values)
        (gen / f"{name}.q").write_bytes(blob)
        doc["arrays"][name] = {"count": len(values), "sha256": hashlib.sha256(blob).hexdigest()}
    doc.pop("sha256", None)
    doc["sha256"] = files._digest(doc)
    (d / files.HEADER).write_text(json.dumps(doc))


def arrays_of(d):
    doc = header(d)
    return {n: list(files._from_bytes((d / doc["generation"] / f"{n}.q").read_bytes())) for n in files.ARRAYS}


def resume(d):
    return check_checkpointed(TwoPhase({"rm": 5}).compile(), str(d), progress=False)


@pytest.mark.parametrize("field, value, message", [
    ("depth", "7", "header field 'depth'"),
    ("generated", -1, "header field 'generated'"),
    ("witnessed", [3], "header field 'witnessed'"),
    ("seconds", True, "header field 'seconds'"),
    ("generation", "../../etc", "header field 'generation'"),
    ("arrays", [], "header field 'arrays'"),
    ("identity", None, "header field 'identity'"),
])
def test_wrong_types_in_the_header_are_one_line(saved, field, value, message):
    doc = header(saved)
    doc[field] = value
    rewrite(saved, doc)
    with pytest.raises(UsageError, match=message):
        resume(saved)


def test_a_deep_or_torn_header_is_one_line(saved):
    (saved / files.HEADER).write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    with pytest.raises(UsageError, match="nests deeper"):
        resume(saved)
    (saved / files.HEADER).write_text('{"format": "consensuslab-checkpoint", "vers')
    with pytest.raises(UsageError, match="is not JSON"):
        resume(saved)


@pytest.mark.parametrize("edit, message", [
    (lambda a: a.update(parents=a["parents"][:-1]), "parent links"),
    (lambda a: a.update(frontier=a["frontier"][::2]), "frontier is not the run"),
    (lambda a: a.update(next=a["next"] + [10 ** 6]), "is not the run of the last states"),
    (lambda a: a["parents"].__setitem__(5, 7), "a parent is always older"),
    (lambda a: a["ks"].__setitem__(a["frontier"][0], 10 ** 6), "is step 1000000 of a state with"),
    (lambda a: a["seen"].__setitem__(3, a["seen"][4]), "stored twice"),
])
def test_changed_arrays_with_hashes_recomputed_are_refused(saved, edit, message):
    arrays = arrays_of(saved)
    edit(arrays)
    rewrite(saved, header(saved), arrays)
    with pytest.raises(UsageError, match=message):
        resume(saved)


def test_a_forged_frontier_that_would_give_a_false_ok_is_caught_by_the_sample(saved):
    """Drop the first half of the frontier (contiguous runs kept, hashes recomputed): states whose successors
    were never found would count as expanded, and the search would end 'ok' over fewer states."""
    arrays = arrays_of(saved)
    half = len(arrays["frontier"]) // 2
    arrays["frontier"] = arrays["frontier"][half:]
    rewrite(saved, header(saved), arrays)
    with pytest.raises(UsageError, match="is missing from the saved fingerprints"):
        resume(saved)


def test_an_array_file_replaced_by_dev_zero_is_one_line(saved):
    doc = header(saved)
    path = saved / doc["generation"] / "seen.q"
    path.unlink()
    path.symlink_to("/dev/zero")
    with pytest.raises(UsageError, match="not a regular file"):
        resume(saved)


def test_a_checkpoint_of_another_protocol_source_is_refused(saved):
    doc = header(saved)
    doc["identity"]["source_sha256"] = "0" * 64
    rewrite(saved, doc)
    with pytest.raises(UsageError, match="protocol source or consensuslab version"):
        resume(saved)


def test_a_corrupt_checkpoint_on_the_command_line_is_one_line(saved):
    (saved / files.HEADER).write_text("[]")
    proc, _ = run("check", "two-phase", "-p", "rm=5", "--checkpoint", saved)
    assert proc.returncode == 2 and proc.stdout == ""
    assert one_line(proc) == f"error: checkpoint {saved}: not a consensuslab checkpoint"
