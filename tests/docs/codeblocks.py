"""The docs' code blocks, read and run as the pages promise (the docs-test convention).

- ```python blocks run in order, one namespace per page, in a directory holding the page's files;
- a block whose first line is ``# file: NAME`` is one of those files (written out, not run);
  a later block of the same name replaces it from that point of the page on (a tutorial's fix);
- ```console blocks hold ``$ consensuslab ...``, ``$ python ...`` or ``$ pytest ...`` lines (after
  optional ``NAME=value`` environment words, before an optional ``< FILE`` for standard input), run
  in that directory; the lines under a command must appear in its output (stdout, then stderr),
  where a line ``...`` stands for any lines and ``<...>`` inside a line for any text; every
  command must exit 0 unless the block's first line is ``$ # exit N``.

A file block may be of any language (``text`` for what a command reads on ``< NAME``); a block
that only includes a repository file (``--8<-- "docs/github-actions.yml"``) is allowed for files
that a test of their own checks; a ```text block shows a format or a sample and is not run.  Any other
fence is refused: every ```python and ```console block in the docs runs.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>[^\n`]*)$")
FILE_LINE = re.compile(r"^# file: (?P<name>\S+)\s*$")
ENV_WORD = re.compile(r"^[A-Z_][A-Z0-9_]*=")
EXIT_LINE = re.compile(r"^\$ # exit (?P<code>\d+)\s*$")
RUNNERS = {"consensuslab": [sys.executable, "-m", "consensuslab"], "python": [sys.executable],
           "python3": [sys.executable], "pytest": [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]}


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str

    @property
    def file_name(self) -> str | None:
        first = self.text.split("\n", 1)[0]
        match = FILE_LINE.match(first)
        return match["name"] if match else None

    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a markdown page, in order."""
    found, lines, i = [], page.read_text().split("\n"), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, indent, start = opening["fence"], len(opening["indent"]), i
        body, i = [], i + 1
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i][indent:])
            i += 1
        found.append(Block(page, start + 1, opening["info"].strip().split(" ")[0], "\n".join(body)))
        i += 1
    return found


@dataclass
class Command:
    argv: list[str]
    expected: list[str] = field(default_factory=list)
    stdin: str | None = None  # a file of the page given as ``< NAME``
    env: dict = field(default_factory=dict)  # leading ``NAME=value`` words


def commands(block: Block) -> tuple[int, list[Command]]:
    """The expected exit code and the commands of a console block, each with the output shown."""
    lines = block.text.split("\n")
    code = 0
    if lines and EXIT_LINE.match(lines[0]):
        code, lines = int(EXIT_LINE.match(lines[0])["code"]), lines[1:]
    found: list[Command] = []
    for line in lines:
        if line.startswith("$ "):
            argv = shlex.split(line[2:], comments=True)
            env = {}
            while argv and ENV_WORD.match(argv[0]):
                name, _, value = argv.pop(0).partition("=")
                env[name] = value
            if not argv or argv[0] not in RUNNERS:
                raise AssertionError(f"{block.where()}: a console command must start with one of "
                                     f"{', '.join(RUNNERS)}: {line!r}")
            stdin = None
            if len(argv) > 2 and argv[-2] == "<":
                argv, stdin = argv[:-2], argv[-1]
            found.append(Command(RUNNERS[argv[0]] + argv[1:], stdin=stdin, env=env))
        elif found:
            found[-1].expected.append(line)
        elif line.strip():
            raise AssertionError(f"{block.where()}: output before the first `$ ` command: {line!r}")
    return code, found


def pattern(expected: list[str]) -> re.Pattern:
    """A regex matching the shown lines as consecutive lines of the output, with the wildcards."""
    while expected and not expected[-1].strip():
        expected = expected[:-1]
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = [re.escape(p) for p in line.rstrip().split("<...>")]
            parts.append("[^\n]*".join(pieces) + r"\n")
    return re.compile("^" + "".join(parts), re.MULTILINE)


def normalised(text: str) -> str:
    text = "\n".join(line.rstrip() for line in text.rstrip("\n").split("\n"))
    return text + "\n" if text else ""


def run_command(block: Block, command: Command, code: int, cwd: Path, env: dict) -> None:
    stdin = (cwd / command.stdin).read_text() if command.stdin else ""
    if command.argv[:3] == RUNNERS["consensuslab"]:
        returncode, output = in_process(command.argv[3:], cwd, command.env, stdin)
    else:
        proc = subprocess.run(command.argv, cwd=cwd, env={**env, **command.env}, input=stdin,
                              capture_output=True, text=True, timeout=120)
        returncode, output = proc.returncode, normalised(proc.stdout) + normalised(proc.stderr)
    shown = " ".join(command.argv[2:] if command.argv[1] == "-m" else command.argv[1:])
    assert returncode == code, f"{block.where()}: `{shown}` exited {returncode}, the page says {code}\n{output}"
    if any(line.strip() for line in command.expected):
        assert pattern(command.expected).search(output), (
            f"{block.where()}: the output of `{shown}` does not show what the page shows.\n"
            f"--- page\n" + "\n".join(command.expected) + f"\n--- real\n{output}")


def in_process(argv: list[str], cwd: Path, env: dict, stdin: str) -> tuple[int, str]:
    """``consensuslab ARGV`` through the command line's own ``main``, in this process: what a
    subprocess would do without paying for a Python start-up per command (the page's modules are
    forgotten afterwards, so a file the page rewrites is loaded afresh)."""
    from consensuslab.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_env = {k: os.environ.get(k) for k in env}
    before, path, modules = os.getcwd(), list(sys.path), set(sys.modules)
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _stdin(stdin):
            try:
                returncode = main(argv)
            except SystemExit as exit_:
                returncode = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(before)
        sys.path[:] = path
        forget(modules, cwd)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return returncode, normalised(out.getvalue()) + normalised(err.getvalue())


@contextlib.contextmanager
def _stdin(text: str):
    saved, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


def forget(modules: set, workdir: Path) -> None:
    """Drop the modules imported since ``modules`` was taken that live in ``workdir``."""
    for name in set(sys.modules) - modules:
        module = sys.modules.get(name)
        if str(getattr(module, "__file__", "") or "").startswith(str(workdir)):
            del sys.modules[name]


def environment(root: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "100"
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("GITHUB_ACTIONS", None)
    return env


def run_page(page: Path, workdir: Path, root: Path) -> int:
    """Run every block of ``page`` in ``workdir``; the number of blocks run."""
    found = blocks(page)
    files = {}
    for block in found:  # every file is there from the start, in its first version
        if block.file_name and block.file_name not in files:
            files[block.file_name] = block
            write(workdir, block)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    env = environment(root)
    ran = 0
    for block in found:
        if block.file_name:
            write(workdir, block)
        elif included(block, root) or block.lang == "text":
            pass  # a repository file with its own test; a ```text block shows a format, nothing to run
        elif block.lang not in ("python", "console"):
            raise AssertionError(f"{block.where()}: a ```{block.lang or '(no language)'} block; the docs hold "
                                 "only ```python and ```console blocks, all of them run by tests/docs, "
                                 "files for them (first line `# file: NAME`), and included files")
        elif block.lang == "python":
            run_python(block, namespace, workdir)
        else:
            code, cmds = commands(block)
            assert cmds, f"{block.where()}: a console block without a `$ ` command"
            for command in cmds:
                run_command(block, command, code, workdir, env)
        ran += 1
    return ran


#: repository files a page may show whole (``--8<-- "PATH"``): each is checked by a test of its own
INCLUDED = {"docs/github-actions.yml": "tests/checkers/variants/test_ci_docs.py"}
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$')


def included(block: Block, root: Path) -> bool:
    """A block that only includes a repository file its own test checks."""
    match = SNIPPET.match(block.text.strip())
    if not match:
        return False
    path = match["path"]
    assert path in INCLUDED and (root / path).exists() and (root / INCLUDED[path]).exists(), (
        f"{block.where()}: {path} is not a file whose own test checks it ({', '.join(INCLUDED)})")
    return True


def write(workdir: Path, block: Block) -> None:
    target = workdir / block.file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(block.text.split("\n", 1)[1] + "\n" if "\n" in block.text else "")


def run_python(block: Block, namespace: dict, workdir: Path) -> None:
    before, modules = os.getcwd(), set(sys.modules)
    os.chdir(workdir)
    sys.path.insert(0, str(workdir))
    try:
        exec(compile(block.text, str(block.page) + f":{block.line}", "exec"), namespace)
    finally:
        os.chdir(before)
        sys.path.remove(str(workdir))
        forget(modules, workdir)  # the page's own modules are the page's
