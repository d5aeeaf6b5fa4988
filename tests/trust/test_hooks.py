"""A protocol hook that raises or answers in the wrong shape is one line naming the protocol, the
hook and the shape it must return (item 5 of the trust issue), never a traceback."""

import pytest

from hostile import actor, one_line, run, spec

SMALL = ("        if s.n < 3000:\n", "        if s.n < 3:\n")


def small_spec(tmp_path, extra: str, prop: str = "        return True\n"):
    """The hostile spec bounded at 3, its property replaced by ``prop``, with ``extra`` methods added."""
    path = spec(tmp_path, *SMALL)
    text = path.read_text().replace("        return True\n", prop)
    text = text.replace("    def done(self, s):\n        return s.n == 3000\n", extra)
    path.write_text(text)
    return path


@pytest.mark.parametrize("extra, message", [
    ("    def done(self, s):\n        return 1 / 0\n",
     "hostile: hook done raised ZeroDivisionError: division by zero"),
    ("    def done(self, s):\n        return 'yes'\n",
     "hostile: hook done returned 'yes' (a str); it must return a bool"),
])
def test_done(tmp_path, extra, message):
    proc, _ = run("check", small_spec(tmp_path, extra))
    assert proc.returncode == 2 and message in one_line(proc)


SYMMETRIC = '''    symmetry = ("NODES",)

    def setup(self):
        self.NODES = ("a", "b")

    def done(self, s):
        return True

'''


@pytest.mark.parametrize("hook, message", [
    ("    def canonical(self, s):\n        return [s.n]\n",
     "hostile: hook canonical returned [0] (a list); it must return a state of the same type"),
    ("    def permute(self, s, mapping):\n        raise RuntimeError('no')\n",
     "hostile: hook permute raised RuntimeError: no"),
])
def test_symmetry_hooks(tmp_path, hook, message):
    proc, _ = run("check", small_spec(tmp_path, SYMMETRIC + hook), "--symmetry")
    assert proc.returncode == 2 and message in one_line(proc)


def test_diff_view(tmp_path):
    extra = "    variants = {'v': 'the same'}\n\n    def diff_view(self, s):\n        return {}[s]\n\n" \
            "    def done(self, s):\n        return True\n"
    proc, _ = run("diff", small_spec(tmp_path, extra), "--variant", "none", "--variant", "v")
    assert proc.returncode == 2
    assert "hostile: hook diff_view raised KeyError" in one_line(proc)


@pytest.mark.parametrize("hook, message", [
    ("    def explain(self, trace):\n        raise ValueError('boom')\n",
     "hostile: hook explain raised ValueError: boom"),
    ("    def explain(self, trace):\n        return 'not a list'\n",
     "hostile: hook explain returned 'not a list' (a str); it must return a list of lines"),
])
def test_rendering_hooks(tmp_path, hook, message):
    path = small_spec(tmp_path, "    def done(self, s):\n        return True\n\n" + hook, "        return s.n < 2\n")
    trace = tmp_path / "t.itf.json"
    made, _ = run("check", path, "--trace-out", trace, "--quiet")
    assert made.returncode == 12, made.stderr
    proc, _ = run("trace", "show", trace, "--protocol", path)
    assert proc.returncode == 2 and message in one_line(proc)


@pytest.mark.parametrize("topology, message", [
    ('        return [("a", "a1")]\n', "ping-pong: hook topology returned [('a', 'a1')] (a list); it must return "
                                       "a dict of role name -> tuple of node names"),
    ('        return {"a": ("a1",), "b": ("a1",)}\n', "ping-pong: hook topology names node 'a1' twice"),
    ('        raise KeyError("b")\n', "ping-pong: hook topology raised KeyError: 'b'"),
])
def test_topology(tmp_path, topology, message):
    path = actor(tmp_path, '        return {"a": ("a1",), "b": ("b1",)}\n', topology)
    proc, _ = run("check", path)
    assert proc.returncode == 2 and message in one_line(proc)
