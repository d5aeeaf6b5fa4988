"""``consensuslab serve`` in a real browser (Playwright driving Debian's chromium).

The server runs as users run it, on 127.0.0.1 with a port it picks (``--port
0``, printed on its first line); the browser clicks through the broken
two-phase variant to the violation, goes back and forward, opens the link of a
state, saves the path as ITF, and ``consensuslab replay`` confirms it.  In CI
(``CI`` set) a missing browser or Playwright is a failure.
"""

import os
import re
import select
import shutil
import subprocess
import sys

import pytest

from clirun import cli
from paths import TRACES

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage"]
NO_WAIT = ["RMChooseToAbort(r1)", "RMPrepare(r2)", "TMRcvPrepared(r2)", "TMCommit", "RMRcvCommitMsg(r2)"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

needs_browser = pytest.mark.skipif((BROWSER is None or sync_playwright is None) and not os.environ.get("CI"),
                                   reason="chromium or playwright missing (required in CI)")


def test_serve_listens_on_loopback_only():
    proc = cli("serve", "two-phase", "--host", "0.0.0.0")
    assert proc.returncode == 2 and "loopback only" in proc.stderr and proc.stdout == ""


class Server:
    """``consensuslab serve ... --port 0`` in a subprocess, stopped when the test ends."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, "-m", "consensuslab", "serve", *map(str, args), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if ready else ""
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if not found:
            self.stop()
            raise AssertionError(f"the server did not start: {line!r} {self.proc.stderr.read()[-2000:]}")
        self.url = found.group(0)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if BROWSER is None or sync_playwright is None:
        pytest.fail("chromium and playwright are required in CI (.ci/run installs both)", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=BROWSER, args=FLAGS)
        yield b
        b.close()


def at_step(page, k):
    page.wait_for_function(f"document.body.dataset.step === '{k}'", timeout=20000)


@needs_browser
def test_click_to_the_violation_go_back_and_forth_save_and_replay(browser, tmp_path):
    server = Server("two-phase", "--variant", "no-wait", "-p", "rm=2")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        page.goto(server.url)
        at_step(page, 0)
        assert "TMAbort" in page.inner_text("#actions")
        for k, label in enumerate(NO_WAIT, start=1):
            page.locator("#actions a", has_text=re.compile(r"\] " + re.escape(label) + "$")).click()
            at_step(page, k)
            assert page.locator("g.step").count() == k  # the chart grows with the path
        assert "VIOLATED here: TCConsistent" in page.inner_text("#violation")
        assert page.inner_text("#props tr.bad").split() == ["TCConsistent", "always", "VIOLATED"]
        assert page.locator("#chart line.msg").count() >= 3  # Prepared to the TM, Commit to the RMs
        assert "r2: receives Commit from TM (sent at step 4)" in page.inner_text("#who")
        assert "rmState[r2]: prepared -> committed" in page.inner_text("#changes")
        page.click("#back")
        at_step(page, 4)
        assert not page.is_visible("#violation")
        page.click("#forward")
        at_step(page, 5)
        permalink = page.get_attribute("#permalink", "href")
        with page.expect_download() as got:
            page.click("#save")
        saved = tmp_path / "walk.itf.json"
        got.value.save_as(saved)
        other = browser.new_page()
        other.goto(server.url + permalink)  # the link of a state reproduces it
        at_step(other, 5)
        assert "TCConsistent" in other.inner_text("#violation")
        other.close()
    finally:
        page.close()
        server.stop()
    replay = cli("replay", saved)
    assert replay.returncode == 12 and "reproduced: TCConsistent (invariant) after 5 steps" in replay.stdout


@needs_browser
def test_step_through_a_loaded_trace(browser):
    trace = TRACES / "two-phase-no-wait.itf.json"
    server = Server("two-phase", "--trace", trace)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(server.url)
        at_step(page, 0)
        steps = page.locator("#trace a")
        assert steps.count() == 6 and page.inner_text("#trace a.here").startswith("0. initial state")
        steps.nth(3).click()
        at_step(page, 3)
        assert page.inner_text("#trace a.here").startswith("3. TMRcvPrepared(r2)")
        assert page.inner_text("#actions a.trace").endswith("TMCommit")  # the trace's next action is marked
        page.click("#actions a.trace")
        at_step(page, 4)
        page.locator("#path a").nth(1).click()  # the path's links lead back to earlier states
        at_step(page, 1)
    finally:
        page.close()
        server.stop()
