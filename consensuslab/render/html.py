"""One self-contained HTML file: the chart at full width, the step's changes and state below.

Everything is inline (CSS, JS, SVG, the data as JSON), so the file opens
offline and can be attached to a bug report.  The chart takes the page's
width, its lane names stay in view while it scrolls, and selecting a step
(slider, Prev/Next, arrow keys, a click on the chart, or ``file.html#step=3``)
highlights it and scrolls the chart to it; the state tree below is
collapsible.  ``page_data`` is shared with the browser explorer (``web``).
"""

from __future__ import annotations

import json
from html import escape

from consensuslab.render.changes import changed_paths, state_diff, state_tree
from consensuslab.render.explain import explain
from consensuslab.render.naming import Names
from consensuslab.render.story import build, is_actor
from consensuslab.render.svg import chart, lanes_strip, layout
from consensuslab.render.text import verdict, who


def step_data(model, names: Names, k: int, act, before, state, ev=None) -> dict:
    """One step as the pages show it: action, who did what to whom, changes, the state as a tree."""
    changes = state_diff(model, before, state, names) if k else []
    return {"step": k, "action": str(act) if act is not None else "initial state",
            "fault": bool(act is not None and model.is_fault(act)),
            "who": (who(ev, receives=not is_actor(model)) if ev is not None else None) or "",
            "changes": [c.text() for c in changes],
            "tree": state_tree(model, state, names, changed_paths(changes))}


def page_data(model, trace, violation, notes, names: Names | None = None, story=None) -> dict:
    names = names or Names(model, trace.initial)
    story = story or build(model, trace, names)
    steps = [step_data(model, names, 0, None, None, trace.initial)]
    for k, ((act, state), ev) in enumerate(zip(trace.steps, story.events), start=1):
        steps.append(step_data(model, names, k, act, trace.states[k - 1], state, ev))
    return {"protocol": model.protocol, "meta": model.meta(), "steps": steps,
            "property": violation.property if violation else None,
            "verdict": verdict(violation) if violation else None, "notes": notes}


def render_html(model, trace, violation=None) -> str:
    names = Names(model, trace.initial)
    story = build(model, trace, names)
    notes = explain(model, trace, violation, names)
    if trace.loop is not None:
        notes = [f"the behaviour loops back to the state after step {trace.loop} forever"] + notes
    data = page_data(model, trace, violation, notes, names, story)
    blob = json.dumps(data, default=str).replace("</", "<\\/")
    title = f"{model.protocol}: {data['verdict'] or 'trace'}"
    failed = (f'<div id="property" class="failed">Property failed: <b>{escape(violation.property)}</b> '
              f'({escape(violation.kind)})</div>' if violation else '<div id="property">no violation recorded</div>')
    notes_html = "".join(f"<li>{escape(n)}</li>" for n in notes)
    strip = lanes_strip(story, layout(story, len(trace)))
    svg = chart(story, len(trace), data["verdict"], notes, strip=False)
    return PAGE.format(title=escape(title), failed=failed, strip=strip, svg=svg, notes=notes_html,
                       last=len(trace), data=blob, script=SCRIPT, style=STYLE)


STYLE = """
body{font-family:sans-serif;margin:12px 16px;color:#222}
h2{margin:4px 0 8px 0;font-size:20px}
#property{font-size:15px;margin:6px 0;padding:6px 10px;border-left:5px solid #c0392b;background:#fdecea}
#explanation summary{cursor:pointer;font-weight:bold;margin:4px 0}
#notes{margin:4px 0 8px 0}
#controls{position:sticky;top:0;z-index:3;background:#fff;padding:6px 0;display:flex;gap:8px;align-items:center;
  border-bottom:1px solid #ddd}
#slider{flex:1;max-width:640px}
#action{font-family:monospace;font-size:13px;padding:4px 8px;background:#eef3fb;overflow-wrap:anywhere}
#action.fault{background:#fdecea;color:#c0392b}
#who{font-family:monospace;font-size:13px;padding:2px 8px;color:#1e6b2e;overflow-wrap:anywhere}
#chart{width:100%;overflow:auto;max-height:62vh;border:1px solid #ddd;position:relative;background:#fff}
#lanes{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #eee;width:max-content}
#chart g.step{cursor:pointer}
#below{margin-top:10px}
#below summary{cursor:pointer;font-weight:bold}
#changes li{font-family:monospace}
#state{font-family:monospace;font-size:13px}
#state details{margin-left:14px} #state summary{cursor:pointer}
.leaf{margin-left:28px} .changed>summary,.leaf.changed{background:#fff3a8;font-weight:bold}
"""

#: the state tree (``render.changes.state_tree``) as nested <details>, changed fields open: this page's and the explorer's
STATE_TREE_JS = """function node(t){
  if (!t.children) {
    var d = document.createElement('div');
    d.className = 'leaf' + (t.changed ? ' changed' : '');
    d.textContent = (t.name ? t.name + ' = ' : '') + t.value;
    return d;
  }
  var det = document.createElement('details');
  if (t.changed) { det.className = 'changed'; det.open = true; }
  var s = document.createElement('summary');
  s.textContent = (t.name || 'state') + (t.kind ? ' : ' + t.kind : '');
  det.appendChild(s);
  t.children.forEach(function(c){ det.appendChild(node(c)); });
  return det;
}
"""

SCRIPT = """
(function(){
var D = JSON.parse(document.getElementById('trace-data').textContent);
var last = D.steps.length - 1, cur = 0;
""" + STATE_TREE_JS + """function reveal(k){
  var box = document.getElementById('chart'), g = document.querySelector('g.step[data-step="' + k + '"] rect.band');
  if (!g) { if (k === 0) box.scrollTop = 0; return; }
  var y = g.getBBox().y, h = g.getBBox().height, strip = document.getElementById('lanes').offsetHeight;
  var top = box.scrollTop, view = box.clientHeight - strip;
  if (y < top || y + h > top + view) box.scrollTop = Math.max(0, y - view / 3);
}
function show(k){
  cur = Math.max(0, Math.min(last, k|0));
  var st = D.steps[cur];
  document.getElementById('slider').value = cur;
  document.getElementById('stepno').textContent = cur;
  var a = document.getElementById('action');
  a.textContent = cur + '. ' + st.action + (cur === last && D.verdict ? '   => ' + D.verdict : '');
  a.className = st.fault ? 'fault' : '';
  document.getElementById('who').textContent = st.who || '';
  var ch = document.getElementById('changes'); ch.innerHTML = '';
  st.changes.forEach(function(c){ var li = document.createElement('li'); li.textContent = c; ch.appendChild(li); });
  var box = document.getElementById('state'); box.innerHTML = '';
  var root = node(st.tree); root.open = true; box.appendChild(root);
  document.getElementById('below-title').textContent = 'Step ' + cur + ': what changed, and the state after it';
  document.querySelectorAll('g.step').forEach(function(g){
    g.classList.toggle('sel', +g.getAttribute('data-step') === cur); });
  document.body.setAttribute('data-step', cur);
  reveal(cur);
  if (location.hash !== '#step=' + cur) history.replaceState(null, '', '#step=' + cur);
}
function fromHash(){ var m = /step=(\\d+)/.exec(location.hash); return m ? +m[1] : 0; }
document.getElementById('slider').addEventListener('input', function(e){ show(e.target.value); });
document.getElementById('prev').addEventListener('click', function(){ show(cur - 1); });
document.getElementById('next').addEventListener('click', function(){ show(cur + 1); });
document.addEventListener('keydown', function(e){
  if (e.key === 'ArrowLeft') show(cur - 1); if (e.key === 'ArrowRight') show(cur + 1); });
document.querySelectorAll('g.step').forEach(function(g){
  g.addEventListener('click', function(){ show(+g.getAttribute('data-step')); }); });
window.addEventListener('hashchange', function(){ show(fromHash()); });
show(fromHash());
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{style}</style></head><body>
<h2>{title}</h2>
{failed}
<details id="explanation" open><summary>What happened</summary><ul id="notes">{notes}</ul></details>
<div id="controls"><button id="prev">&#9664; Prev</button>
<input type="range" id="slider" min="0" max="{last}" value="0">
<button id="next">Next &#9654;</button> step <span id="stepno">0</span> / {last}</div>
<div id="action"></div>
<div id="who"></div>
<div id="chart"><div id="lanes">{strip}</div>{svg}</div>
<details id="below" open><summary id="below-title">What changed, and the state</summary>
<ul id="changes"></ul>
<div id="state"></div></details>
<script id="trace-data" type="application/json">{data}</script>
<script>{script}</script></body></html>
"""
