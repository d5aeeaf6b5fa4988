"""The Mermaid output of a trace of every bundled protocol, rendered for real by mermaid-cli.

mermaid-cli (npm ``@mermaid-js/mermaid-cli``, installed by ``.ci/run`` into
``.ci/node``) drives Debian's chromium; all charts go into one Markdown file,
so one browser renders them all.  A chart that does not parse fails the run
(the ``&lt;`` of an HTML entity once ended a statement).  In CI (``CI`` set)
a missing tool is a failure.
"""

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from consensuslab.commands.replay import replay_file
from consensuslab.protocols import available
from consensuslab.render import render
from consensuslab.render.mermaid import mermaid_text

from paths import ROOT, TRACES

LOCAL = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "mmdc"
MMDC = os.environ.get("MMDC") or (str(LOCAL) if LOCAL.exists() else shutil.which("mmdc"))
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
ARROW = re.compile(r"^\s+L_\w+(->>|-\)|-x|--\))L_\w+: ", re.M)
SVG = "{http://www.w3.org/2000/svg}"

needs_tools = pytest.mark.skipif((MMDC is None or BROWSER is None) and not os.environ.get("CI"),
                                 reason="mermaid-cli or chromium missing (.ci/run installs both; required in CI)")


def saved_by_protocol() -> dict:
    """One saved counterexample per protocol (the first by file name; raft's is Figure 8)."""
    out = {"raft": TRACES / "raft-figure8.itf.json"}
    for path in sorted(TRACES.glob("*.itf.json")):
        out.setdefault(json.loads(path.read_text())["#meta"]["protocol"], path)
    return out


def test_every_bundled_protocol_has_a_saved_trace():
    assert set(available()) <= set(saved_by_protocol())


def test_labels_are_escaped_with_mermaid_entity_codes():
    text = mermaid_text("log[s1]: +<2, 1>; x -> y #3")
    assert text == "log[s1]: +#lt;2, 1#gt;#59; x -#gt; y #35;3"
    bare = re.sub(r"#(lt|gt|59|35);", "", text)
    assert not re.search(r"[<>;#]", bare)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    if MMDC is None or BROWSER is None:
        pytest.fail("mermaid-cli and chromium are required in CI: .ci/run installs them", pytrace=False)
    folder = tmp_path_factory.mktemp("mermaid")
    charts = {}
    for name, path in sorted(saved_by_protocol().items()):
        done = replay_file(str(path))
        charts[name] = render("mermaid", done.model, done.trace, done.violation)
    (folder / "charts.md").write_text("\n\n".join(f"## {name}\n\n```mermaid\n{chart}```" for name, chart in
                                                  charts.items()) + "\n", encoding="utf-8")
    (folder / "puppeteer.json").write_text(json.dumps({"executablePath": BROWSER, "args": FLAGS}))
    proc = subprocess.run([MMDC, "-p", str(folder / "puppeteer.json"), "-i", str(folder / "charts.md"),
                           "-o", str(folder / "out.md")], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"})
    return folder, charts, proc


@needs_tools
def test_every_protocols_chart_parses_and_renders(rendered):
    folder, charts, proc = rendered
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    for i, (name, chart) in enumerate(charts.items(), start=1):
        svg = folder / f"out-{i}.svg"
        assert svg.exists(), f"{name}: no chart rendered"
        root = ET.fromstring(svg.read_text(encoding="utf-8"))
        lines = [e for e in root.iter() if (e.get("class") or "").startswith("messageLine")]
        assert len(lines) == len(ARROW.findall(chart)), name  # every arrow of the source is drawn
        text = " ".join("".join(e.itertext()) for e in root.iter(SVG + "text"))
        lanes = re.findall(r"participant L_\w+ as (.+)", chart)
        assert all(lane.replace(" (Byzantine)", "") in text for lane in lanes), name


@needs_tools
def test_spec_protocols_draw_their_messages_as_arrows(rendered):
    """Every spec protocol whose trace sends a message has arrows, not only notes over a made-up lane."""
    _, charts, _ = rendered
    for name in ("two-phase", "paxos", "raft", "pbft", "byzantine-generals", "smr-raft", "smr-clocks"):
        assert ARROW.search(charts[name]), name
    raft = charts["raft"]
    assert "participant L_raft" not in raft
    assert raft.count("->>") >= 18 and "L_s2->>L_s1: 43. AppendEntriesRequest(mterm=5" in raft


@needs_tools
def test_angle_brackets_survive_into_the_rendered_chart(rendered):
    folder, charts, _ = rendered
    i = list(charts).index("raft") + 1
    root = ET.fromstring((folder / f"out-{i}.svg").read_text(encoding="utf-8"))
    text = " ".join("".join(e.itertext()) for e in root.iter())
    assert "log[s1]: +<2, 1>" in text and "log[s1]: -<2, 1>" in text
