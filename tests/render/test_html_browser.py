"""The HTML trace view in a real headless browser (Debian's ``chromium``).

Two ways, both dependency-free: ``--dump-dom`` / ``--screenshot`` on
``file.html#step=N`` (the page selects the step from the hash), and the
Chrome DevTools protocol over ``--remote-debugging-pipe`` (JSON messages
ending in NUL on file descriptors 3 and 4) to click Prev/Next and move the
slider like a user.  In CI (``CI`` set) a missing browser is a failure.
"""

import base64
import json
import os
import shutil
import struct
import subprocess
import zlib

import pytest

from consensuslab.commands.replay import replay_file
from consensuslab.render.html import render_html

from paths import TRACES

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
TRACE = str(TRACES / "paxos-actors-minority-quorum-dfs.itf.json")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]

if BROWSER is None:
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: .ci/run must `apt-get install -y chromium`", pytrace=False)
    pytestmark = pytest.mark.skip(reason="chromium is not installed (required in CI)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    done = replay_file(TRACE)
    path = tmp_path_factory.mktemp("html") / "trace.html"
    path.write_text(render_html(done.model, done.trace, done.violation), encoding="utf-8")
    return path, done


def browse(tmp_path, *args):
    profile = tmp_path / "profile"
    return subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=3000", *args],
                          capture_output=True, text=True, timeout=60)


def test_dump_dom_at_a_step_shows_that_step(page, tmp_path):
    path, done = page
    proc = browse(tmp_path, "--dump-dom", f"file://{path}#step=9")
    dom = proc.stdout
    assert 'data-step="9"' in dom, proc.stderr[-2000:]
    assert f"9. {done.trace.actions[8]}" in dom
    # the step's change is listed and its field highlighted in the state tree
    assert "nodes.l1.decision: v1 -&gt; v2" not in dom  # that is step 14's change, not step 9's
    assert 'class="step sel" data-step="9"' in dom
    assert 'Property failed: <b>decision_stable</b>' in dom
    assert "share no node" in dom
    last = browse(tmp_path, "--dump-dom", f"file://{path}#step={len(done.trace)}").stdout
    assert "nodes.l1.decision: v1 -&gt; v2" in last
    assert '<div class="leaf changed">decision = v2</div>' in last


def png_pixels(data: bytes):
    """(width, height, distinct colours in a sample) of an 8-bit RGB(A) PNG, without Pillow."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, head = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            head = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour = head
    assert depth == 8 and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw, stride, prev, colours = zlib.decompress(idat), width * bpp, bytearray(width * bpp), set()
    for y in range(height):
        filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if filt == 1:
                line[i] = (line[i] + a) & 255
            elif filt == 2:
                line[i] = (line[i] + b) & 255
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 7 == 0:
            colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp * 5))
        prev = line
    return width, height, colours


def test_screenshot_is_a_real_rendering(page, tmp_path):
    path, _ = page
    shot = tmp_path / "shot.png"
    proc = browse(tmp_path, f"--screenshot={shot}", "--window-size=1200,900", f"file://{path}#step=3")
    assert shot.exists(), proc.stderr[-2000:]
    width, height, colours = png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 900)
    assert len(colours) > 20  # text, lanes, arrows and highlights, not a blank page
    assert bytes((0xc0, 0x39, 0x2b)) in colours or any(r > 180 and g < 90 and b < 80 for r, g, b in colours)


class DevTools:
    """A minimal Chrome DevTools protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, tmp_path):
        r_cmd, self.w_cmd = os.pipe()
        self.r_out, w_out = os.pipe()

        def fds():
            os.dup2(r_cmd, 3)
            os.dup2(w_out, 4)

        self.proc = subprocess.Popen([BROWSER, *FLAGS, f"--user-data-dir={tmp_path / 'cdp'}",
                                      "--remote-debugging-pipe", "about:blank"],
                                     preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(r_cmd)
        os.close(w_out)
        self.ids, self.buf, self.session = 0, b"", None

    def call(self, method, **params):
        self.ids += 1
        msg = {"id": self.ids, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        os.write(self.w_cmd, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = os.read(self.r_out, 1 << 16)
                if not chunk:
                    raise RuntimeError("the browser closed the DevTools pipe")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.ids:
                if "error" in reply:
                    raise RuntimeError(reply["error"])
                return reply["result"]

    def js(self, expression):
        import time

        for _ in range(50):
            got = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
            value = got["result"].get("value")
            if value is not None:
                return value
            time.sleep(0.1)
        return None

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def test_step_through_with_buttons_and_slider(page, tmp_path):
    path, done = page
    cdp = DevTools(tmp_path)
    try:
        target = cdp.call("Target.createTarget", url=f"file://{path}")["targetId"]
        cdp.session = cdp.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        assert cdp.js("document.body && document.body.getAttribute('data-step')") == "0"
        click = "document.getElementById('{}').click(); document.getElementById('action').textContent"
        assert cdp.js(click.format("next")).startswith(f"1. {done.trace.actions[0]}")
        assert cdp.js(click.format("next")).startswith(f"2. {done.trace.actions[1]}")
        assert cdp.js(click.format("prev")).startswith(f"1. {done.trace.actions[0]}")
        last = len(done.trace)
        text = cdp.js("var s = document.getElementById('slider'); s.value = s.max;"
                      "s.dispatchEvent(new Event('input')); document.getElementById('action').textContent")
        assert text.startswith(f"{last}. ") and "decision_stable" in text
        assert cdp.js("location.hash") == f"#step={last}"
        changed = cdp.js("Array.from(document.querySelectorAll('#state .leaf.changed')).map(e => e.textContent)")
        assert "decision = v2" in changed
        shot = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
        assert len(png_pixels(shot)[2]) > 20
    finally:
        cdp.close()
