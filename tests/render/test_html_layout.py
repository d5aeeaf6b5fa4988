"""The HTML trace page laid out in a real browser (Playwright driving Debian's chromium).

The chart takes the page's width and every lane of a six-node trace is on
screen at 1280 and 1920 px; the state sits below it in a collapsible block;
selecting a step scrolls the chart to it.  In CI (``CI`` set) a missing browser
or Playwright is a failure.
"""

import os
import shutil

import pytest

from consensuslab.commands.replay import replay_file
from consensuslab.render.html import render_html

from paths import TRACES

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

if BROWSER is None or sync_playwright is None:
    if os.environ.get("CI"):
        pytest.fail("chromium and playwright are required in CI (.ci/run installs both)", pytrace=False)
    pytestmark = pytest.mark.skip(reason="chromium or playwright missing (required in CI)")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=BROWSER, args=FLAGS)
        yield b
        b.close()


def page_for(tmp_path, name):
    done = replay_file(str(TRACES / name))
    path = tmp_path / f"{name}.html"
    path.write_text(render_html(done.model, done.trace, done.violation), encoding="utf-8")
    return path, done


def box(page, selector):
    return page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect(); "
                                           "return [r.left, r.top, r.right, r.bottom]; }")


@pytest.mark.parametrize("width", [1280, 1920])
def test_every_lane_of_six_is_visible_and_the_chart_is_full_width(browser, tmp_path, width):
    path, done = page_for(tmp_path, "two-phase-no-wait-rm5.itf.json")
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(f"file://{path}#step=3")
        lanes = page.eval_on_selector_all("#lanes g.lane", "gs => gs.map(g => { const r = g.getBoundingClientRect();"
                                                             " return [g.dataset.lane, r.left, r.right, r.top]; })")
        assert [x[0] for x in lanes] == ["TM", "r1", "r2", "r3", "r4", "r5"]
        left, top, right, bottom = box(page, "#chart")
        assert right - left >= 0.95 * (width - 40)  # the chart, not a pane beside it, takes the width
        for name, lane_left, lane_right, lane_top in lanes:
            assert left <= lane_left and lane_right <= right and lane_right <= width, (name, lane_left, width)
            assert top <= lane_top < bottom
        state = box(page, "#below")
        assert state[1] >= bottom  # the state is below the chart
        assert page.eval_on_selector("#below", "e => e.tagName") == "DETAILS"
        page.click("#below-title")
        assert page.eval_on_selector("#below", "e => e.open") is False
    finally:
        page.close()


def test_selecting_a_step_scrolls_the_chart_to_it(browser, tmp_path):
    path, done = page_for(tmp_path, "raft-figure8.itf.json")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(f"file://{path}")

        def visible(k):
            outer, r = box(page, "#chart"), box(page, f'g.step[data-step="{k}"] rect.band')
            return outer[1] <= r[1] and r[3] <= outer[3]

        assert visible(1) and not visible(44)
        page.evaluate("var s = document.getElementById('slider'); s.value = 44; s.dispatchEvent(new Event('input'))")
        assert visible(44) and page.eval_on_selector("body", "b => b.dataset.step") == "44"
        assert "s1: receives AppendEntriesRequest" in page.inner_text("#who")
        assert page.inner_text("#changes") == "log[s1]: -<2, 1>"
        page.click("#next")
        assert visible(45) and page.inner_text("#changes") == "log[s1]: +<3, 1>"
        page.goto(f"file://{path}#step=2")
        page.evaluate("location.hash = '#step=40'")
        page.wait_for_function("document.body.dataset.step === '40'")
        assert visible(40)
        chart, lanes = box(page, "#chart"), box(page, "#lanes")  # the lane names stay in view as the chart scrolls
        assert page.eval_on_selector("#chart", "c => c.scrollTop") > 1000 and chart[1] <= lanes[1] <= chart[1] + 2
    finally:
        page.close()
