"""Take the documentation's screenshots: the static trace page and the browser explorer, 1280 and 1920 px.

    python docs/screenshots.py            # writes docs/images/*.png

Needs the test extra (Flask, Playwright) and Debian's chromium at /usr/bin/chromium (or CHROMIUM=path).
The static page shows Raft's Figure 8 counterexample at step 44 (s1 loses the entry it committed);
the explorer is walked through two-phase commit's broken no-wait variant to the violation.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
BROWSER = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync"]
WIDTHS = (1280, 1920)
NO_WAIT = ["RMChooseToAbort(r1)", "RMPrepare(r2)", "TMRcvPrepared(r2)", "TMCommit", "RMRcvCommitMsg(r2)"]


def static_page(browser, folder: Path) -> None:
    page_file = folder / "figure8.html"
    trace = ROOT / "tests" / "traces" / "raft-figure8.itf.json"
    subprocess.run([sys.executable, "-m", "consensuslab", "trace", "show", str(trace), "--format", "html",
                    "-o", str(page_file)], check=True, cwd=ROOT)
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 1000})
        page.goto(f"file://{page_file}#step=44")
        page.wait_for_function("document.body.dataset.step === '44'")
        page.screenshot(path=str(IMAGES / f"trace-page-{width}.png"))
        page.close()


def explorer(browser) -> None:
    server = subprocess.Popen([sys.executable, "-m", "consensuslab", "serve", "two-phase", "--variant", "no-wait",
                               "-p", "rm=3", "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        ready, _, _ = select.select([server.stdout], [], [], 60)
        url = re.search(r"http://\S+/", server.stdout.readline() if ready else "").group(0)
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 1000})
            page.goto(url)
            for k, label in enumerate(NO_WAIT, start=1):
                page.locator("#actions a", has_text=re.compile(r"\] " + re.escape(label) + "$")).click()
                page.wait_for_function(f"document.body.dataset.step === '{k}'")
            page.screenshot(path=str(IMAGES / f"explorer-{width}.png"))
            page.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=BROWSER, args=FLAGS)
        try:
            static_page(browser, Path(tmp))
            explorer(browser)
        finally:
            browser.close()
    for png in sorted(IMAGES.glob("*.png")):
        print(png.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
