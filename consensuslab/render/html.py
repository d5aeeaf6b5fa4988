"""One self-contained HTML file: chart, step slider, state tree with changes, the failed property.

Everything is inline (CSS, JS, SVG, the data as JSON), so the file opens
offline and can be attached to a bug report.  ``file.html#step=3`` opens at
step 3 (the browser test relies on it); the slider, Prev/Next buttons and the
arrow keys move between steps and keep the hash in sync.
"""

from __future__ import annotations

import json
from html import escape

from consensuslab.render.changes import changed_paths, state_diff, tree
from consensuslab.render.explain import explain
from consensuslab.render.svg import render_svg
from consensuslab.render.text import verdict


def page_data(model, trace, violation, notes) -> dict:
    steps = []
    before = None
    for k, state in enumerate(trace.states):
        act = trace.steps[k - 1][0] if k else None
        changes = state_diff(model, before, state) if k else []
        steps.append({"step": k, "action": str(act) if act else "initial state",
                      "fault": bool(act is not None and model.is_fault(act)),
                      "changes": [c.text() for c in changes],
                      "tree": tree(model.encode_state(state), "", changed_paths(changes))})
        before = state
    return {"protocol": model.protocol, "meta": model.meta(), "steps": steps,
            "property": violation.property if violation else None,
            "verdict": verdict(violation) if violation else None, "notes": notes}


def render_html(model, trace, violation=None) -> str:
    notes = explain(model, trace, violation)
    data = page_data(model, trace, violation, notes)
    blob = json.dumps(data, default=str).replace("</", "<\\/")
    title = f"{model.protocol}: {data['verdict'] or 'trace'}"
    failed = (f'<div id="property" class="failed">Property failed: <b>{escape(violation.property)}</b> '
              f'({escape(violation.kind)})</div>' if violation else '<div id="property">no violation recorded</div>')
    notes_html = "".join(f"<li>{escape(n)}</li>" for n in notes)
    return _PAGE.format(title=escape(title), failed=failed, svg=render_svg(model, trace, violation, notes=notes),
                        notes=notes_html, last=len(trace), data=blob)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:sans-serif;margin:16px;color:#222}}
#property{{font-size:16px;margin:6px 0;padding:6px 10px;border-left:5px solid #c0392b;background:#fdecea}}
#controls{{margin:10px 0;display:flex;gap:8px;align-items:center}}
#slider{{width:360px}}
#action{{font-family:monospace;font-size:14px;padding:4px 8px;background:#eef3fb}}
#action.fault{{background:#fdecea;color:#c0392b}}
#panes{{display:flex;gap:16px;align-items:flex-start}}
#chart{{overflow:auto;max-height:80vh;border:1px solid #ddd}}
#state{{font-family:monospace;font-size:13px;min-width:360px}}
details{{margin-left:14px}} summary{{cursor:pointer}}
.leaf{{margin-left:28px}} .changed>summary,.leaf.changed{{background:#fff3a8;font-weight:bold}}
#changes li{{font-family:monospace}}
</style></head><body>
<h2>{title}</h2>
{failed}
<ul id="notes">{notes}</ul>
<div id="controls"><button id="prev">&#9664; Prev</button>
<input type="range" id="slider" min="0" max="{last}" value="0">
<button id="next">Next &#9654;</button> step <span id="stepno">0</span> / {last}</div>
<div id="action"></div>
<ul id="changes"></ul>
<div id="panes"><div id="chart">{svg}</div><div id="state"></div></div>
<script id="trace-data" type="application/json">{data}</script>
<script>
(function(){{
var D = JSON.parse(document.getElementById('trace-data').textContent);
var last = D.steps.length - 1, cur = 0;
function node(t){{
  if (!t.children) {{
    var d = document.createElement('div');
    d.className = 'leaf' + (t.changed ? ' changed' : '');
    d.textContent = (t.name ? t.name + ' = ' : '') + t.value;
    return d;
  }}
  var det = document.createElement('details');
  if (t.changed) {{ det.className = 'changed'; det.open = true; }}
  var s = document.createElement('summary');
  s.textContent = (t.name || 'state') + (t.kind ? ' : ' + t.kind : '');
  det.appendChild(s);
  t.children.forEach(function(c){{ det.appendChild(node(c)); }});
  return det;
}}
function show(k){{
  cur = Math.max(0, Math.min(last, k|0));
  var st = D.steps[cur];
  document.getElementById('slider').value = cur;
  document.getElementById('stepno').textContent = cur;
  var a = document.getElementById('action');
  a.textContent = cur + '. ' + st.action + (cur === last && D.verdict ? '   => ' + D.verdict : '');
  a.className = st.fault ? 'fault' : '';
  var ch = document.getElementById('changes'); ch.innerHTML = '';
  st.changes.forEach(function(c){{ var li = document.createElement('li'); li.textContent = c; ch.appendChild(li); }});
  var box = document.getElementById('state'); box.innerHTML = '';
  var root = node(st.tree); root.open = true; box.appendChild(root);
  document.querySelectorAll('g.step').forEach(function(g){{
    g.classList.toggle('sel', +g.getAttribute('data-step') === cur); }});
  document.body.setAttribute('data-step', cur);
  if (location.hash !== '#step=' + cur) history.replaceState(null, '', '#step=' + cur);
}}
function fromHash(){{ var m = /step=(\\d+)/.exec(location.hash); return m ? +m[1] : 0; }}
document.getElementById('slider').addEventListener('input', function(e){{ show(e.target.value); }});
document.getElementById('prev').addEventListener('click', function(){{ show(cur - 1); }});
document.getElementById('next').addEventListener('click', function(){{ show(cur + 1); }});
document.addEventListener('keydown', function(e){{
  if (e.key === 'ArrowLeft') show(cur - 1); if (e.key === 'ArrowRight') show(cur + 1); }});
document.querySelectorAll('g.step').forEach(function(g){{
  g.addEventListener('click', function(){{ show(+g.getAttribute('data-step')); }}); }});
window.addEventListener('hashchange', function(){{ show(fromHash()); }});
show(fromHash());
}})();
</script></body></html>
"""
