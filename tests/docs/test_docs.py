"""The documentation site: it builds with warnings as errors, every bundled protocol has its page,
and every code block of every page runs and shows what it says (tests/docs/codeblocks.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codeblocks import Block, Command, blocks, pattern, run_command, run_page
from paths import ROOT

DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "hooks" not in p.parts)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_every_code_block_of_the_page_runs(page, tmp_path):
    ran = run_page(page, tmp_path, ROOT)
    assert ran == len(blocks(page))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1",
                               "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_the_site_builds_strict_with_a_page_per_bundled_protocol(site):
    from consensuslab.commands.list_ import describe
    from consensuslab.protocols import available

    index = (site / "protocols" / "index.html").read_text()
    for name in available():
        page = site / "protocols" / name / "index.html"
        assert page.exists(), f"no page for the bundled protocol {name}"
        text = page.read_text()
        facts = describe(name)
        for item in [*facts["params"], *(s["name"] for s in facts["scenarios"]), *(p["name"] for p in facts["properties"])]:
            assert item in text, f"protocols/{name}: {item} is missing"
        assert f'href="{name}/"' in index


def test_the_reference_is_generated_from_the_docstrings(site):
    import consensuslab

    api = (site / "reference" / "api" / "index.html").read_text()
    assert consensuslab.Scenario.__doc__.split("\n")[0].split("``")[0].strip()[:40] in api
    for name in ("Spec", "Protocol", "check", "Fair", "Scenario", "MessageSoup", "Unordered", "constraint"):
        assert f'id="consensuslab.{name}"' in api, name
    cli = (site / "reference" / "cli" / "index.html").read_text()
    for verb in ("check-all", "trace", "replay", "mutate", "quorum"):
        assert f'id="{verb}"' in cli, verb


def test_every_how_to_and_tutorial_is_in_the_navigation(site):
    home = (site / "index.html").read_text()
    for page in PAGES:
        rel = page.relative_to(DOCS).with_suffix("")
        if rel.parts[0] in ("how-to", "tutorials") or rel.name == "concepts":
            assert f'href="{rel.as_posix()}/"' in home, f"{rel} is not in the navigation"


# the runner itself: a page that shows the wrong output, exit code or fence must fail

def block(text, lang="console"):
    return Block(Path("page.md"), 1, lang, text)


def test_shown_output_matches_with_wildcards_and_only_then():
    shown = ["first <...> line", "...", "last"]
    assert pattern(shown).search("zero\nfirst real line\nx\ny\nlast\n")
    assert not pattern(shown).search("first real line\nlast but not least\n")
    assert not pattern(["a", "b"]).search("a\nx\nb\n")


def test_a_wrong_exit_code_or_output_fails_the_page(tmp_path):
    from codeblocks import environment

    env = environment(ROOT)
    ok = Command([sys.executable, "-c", "print('hello')"], ["hello"])
    run_command(block(""), ok, 0, tmp_path, env)
    with pytest.raises(AssertionError, match="exited 0, the page says 12"):
        run_command(block(""), ok, 12, tmp_path, env)
    with pytest.raises(AssertionError, match="does not show"):
        run_command(block(""), Command(ok.argv, ["goodbye"]), 0, tmp_path, env)


def test_a_block_that_is_not_run_is_refused(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# p\n\n```yaml\na: 1\n```\n")
    with pytest.raises(AssertionError, match="only ```python and ```console blocks"):
        run_page(page, tmp_path, ROOT)
    page.write_text("```console\n$ rm -rf /\n```\n")
    with pytest.raises(AssertionError, match="must start with one of"):
        run_page(page, tmp_path, ROOT)


def test_in_process_commands_behave_as_the_installed_command(tmp_path):
    """The runner calls the command line's ``main`` in-process (no start-up per command); it must give
    what a real process gives: the same exit code and the same lines but for the timing."""
    from codeblocks import environment, in_process

    argv = ["check", "two-phase", "--variant", "no-wait", "-p", "rm=2"]
    code, output = in_process(argv, tmp_path, {}, "")
    proc = subprocess.run([sys.executable, "-m", "consensuslab", *argv], cwd=tmp_path, capture_output=True,
                          text=True, env=environment(ROOT), timeout=120)
    untimed = lambda text: [line for line in text.splitlines() if "states/s" not in line]  # noqa: E731
    assert code == proc.returncode == 12
    assert untimed(output) == untimed(proc.stdout + proc.stderr)


def test_pages_from_other_branches_enter_the_navigation_once_they_exist(tmp_path):
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        import protocol_pages
    finally:
        sys.path.remove(str(DOCS / "hooks"))
    nav = [{"How-to guides": [{"CI": "how-to/ci.md"}, {"Real code": "how-to/real-code.md"}]},
           {"Protocols": "protocols/index.md"}]

    def how_tos():
        config = protocol_pages.on_config({"docs_dir": str(tmp_path), "nav": list(nav)})
        return [next(iter(e.values())) for e in config["nav"][0]["How-to guides"]], config["nav"][1]["Protocols"]

    listed, protocols = how_tos()
    assert listed == ["how-to/ci.md"]
    assert {"two-phase": "protocols/two-phase.md"} in protocols
    (tmp_path / "how-to").mkdir()
    (tmp_path / "how-to" / "real-code.md").write_text("# Real code\n")
    assert how_tos()[0] == ["how-to/ci.md", "how-to/real-code.md"]


def test_every_public_name_is_in_the_reference():
    import consensuslab

    page = (DOCS / "reference" / "api.md").read_text()
    missing = [n for n in consensuslab.__all__ if f"::: consensuslab.{n}\n" not in page]
    assert not missing, f"reference/api.md lacks {missing}"
