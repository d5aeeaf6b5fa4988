"""The browser explorer's page: one HTML document, its script asking ``/api/view`` for each path.

The address holds the path (``?i=0&a=...``), so Back and Forward in the
browser, the page's own Back/Forward buttons, and a link copied from the path
list all lead to the same states.  The chart of the path grows as actions are
taken and scrolls to the newest step; the state is a collapsible tree with
the last step's changes highlighted; properties violated here are marked.
"""

from consensuslab.render.html import STATE_TREE_JS

PAGE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:sans-serif;margin:0;color:#222}
header{position:sticky;top:0;z-index:5;background:#1f3f6a;color:#fff;padding:8px 14px;display:flex;gap:10px;
  align-items:center;flex-wrap:wrap}
header h1{font-size:17px;margin:0 12px 0 0}
header button,header a.button{font-size:13px;padding:4px 10px;border-radius:4px;border:1px solid #9bb;
  background:#eef3fb;color:#123;text-decoration:none;cursor:pointer}
header button:disabled{opacity:.45;cursor:default}
#stepinfo{font-family:monospace}
#violation{margin:8px 14px;padding:6px 10px;border-left:5px solid #c0392b;background:#fdecea;display:none}
#error{margin:8px 14px;padding:6px 10px;background:#fff3cd;display:none}
main{display:grid;grid-template-columns:minmax(300px,26%) minmax(0,1fr);gap:12px;padding:10px 14px}
main>section{min-width:0}
aside h2,section h2{font-size:14px;margin:10px 0 4px 0;text-transform:uppercase;color:#456}
#actions a{display:block;font-family:monospace;font-size:13px;padding:3px 6px;margin:2px 0;border-radius:3px;
  background:#eef3fb;color:#123;text-decoration:none;overflow-wrap:anywhere}
#actions a:hover{background:#d6e4f7}
#actions a.fault{background:#fdecea;color:#8b1d12}
#actions a.trace{outline:2px solid #2e8b57}
#props td{font-size:12px;padding:1px 4px;font-family:monospace}
#props tr.bad td{color:#c0392b;font-weight:bold}
#path a,#trace a{font-family:monospace;font-size:12px;color:#1f3f6a;text-decoration:none;display:block;
  overflow-wrap:anywhere}
#path a.here,#trace a.here{background:#ffd84d55;font-weight:bold}
#who{font-family:monospace;font-size:13px;color:#1e6b2e;min-height:1em;overflow-wrap:anywhere}
#chart{overflow:auto;max-height:58vh;border:1px solid #ddd;background:#fff}
#notes li{font-size:13px}
#changes li{font-family:monospace;font-size:13px}
#state{font-family:monospace;font-size:13px}
#state details{margin-left:14px} #state summary{cursor:pointer}
.leaf{margin-left:28px} .changed>summary,.leaf.changed{background:#fff3a8;font-weight:bold}
</style></head><body>
<header><h1>{{title}}</h1>
<button id="back" title="one step back">&#9664; Back</button>
<button id="forward" title="redo the step undone">Forward &#9654;</button>
<span id="stepinfo"></span>
<a class="button" id="save" href="#" download>Save path as ITF</a>
<a class="button" id="permalink" href="#">Link to this state</a>
</header>
<div id="error"></div>
<div id="violation"></div>
<main>
<aside>
<h2>Enabled actions</h2><div id="actions"></div>
<h2>Properties here</h2><table id="props"></table>
<h2>Path</h2><div id="path"></div>
<div id="tracebox" style="display:none"><h2>Loaded trace</h2><div id="trace"></div></div>
</aside>
<section>
<h2>Sequence chart</h2>
<div id="who"></div>
<div id="chart"></div>
<ul id="notes"></ul>
<details id="statebox" open><summary><b>State</b> (changes of the last step highlighted)</summary>
<ul id="changes"></ul><div id="state"></div></details>
</section>
</main>
<script>
(function(){
var redo = [], view = null;
function el(id){ return document.getElementById(id); }
""" + STATE_TREE_JS + r"""function anchor(text, href, cls){
  var a = document.createElement('a'); a.textContent = text; a.href = href; if (cls) a.className = cls;
  a.addEventListener('click', function(e){ e.preventDefault(); go(href, true); });
  return a;
}
function go(query, fresh){
  if (fresh) redo = [];
  history.pushState(null, '', query || '?');
  load();
}
function show(v){
  view = v;
  el('error').style.display = 'none';
  el('stepinfo').textContent = v.path ? 'step ' + v.step : 'pick an initial state';
  document.body.setAttribute('data-step', v.path ? v.step : -1);
  var acts = el('actions'); acts.innerHTML = '';
  (v.actions || []).forEach(function(a){
    acts.appendChild(anchor('[' + a.n + '] ' + a.label, a.link,
      (a.fault ? 'fault ' : '') + (a.trace ? 'trace' : '')));
  });
  if (v.actions && !v.actions.length) acts.textContent = v.deadlock ? 'no action is enabled (deadlock)' :
    'no action is enabled (finished)';
  var props = el('props'); props.innerHTML = '';
  (v.properties || []).forEach(function(p){
    var tr = document.createElement('tr'); if (p.verdict === 'VIOLATED') tr.className = 'bad';
    [p.name, p.kind, p.verdict].forEach(function(x){ var td = document.createElement('td'); td.textContent = x;
      tr.appendChild(td); });
    props.appendChild(tr);
  });
  var path = el('path'); path.innerHTML = '';
  (v.path || []).forEach(function(p){
    path.appendChild(anchor(p.step + '. ' + p.action, p.link, p.step === v.step ? 'here' : ''));
  });
  var box = el('violation');
  if (v.violation) { box.style.display = 'block';
    box.textContent = 'VIOLATED here: ' + v.violation.verdict; } else { box.style.display = 'none'; }
  el('who').textContent = v.who || '';
  el('chart').innerHTML = v.chart || '';
  var c = el('chart'); c.scrollTop = c.scrollHeight;
  var notes = el('notes'); notes.innerHTML = '';
  (v.notes || []).forEach(function(n){ var li = document.createElement('li'); li.textContent = n;
    notes.appendChild(li); });
  var ch = el('changes'); ch.innerHTML = '';
  (v.changes || []).forEach(function(x){ var li = document.createElement('li'); li.textContent = x;
    ch.appendChild(li); });
  var st = el('state'); st.innerHTML = '';
  if (v.tree) { var root = node(v.tree); root.open = true; st.appendChild(root); }
  el('save').href = v.itf || '#';
  el('permalink').href = v.link || '?';
  el('back').disabled = !(v.path && v.step > 0);
  el('forward').disabled = !redo.length;
  if (v.trace) {
    el('tracebox').style.display = 'block';
    var tr = el('trace'); tr.innerHTML = '';
    v.trace.steps.forEach(function(s){
      tr.appendChild(anchor(s.step + '. ' + s.action, s.link, s.step === v.trace.position ? 'here' : ''));
    });
  }
}
function load(){
  var w = el('chart').clientWidth || 900;
  fetch('/api/view' + (location.search || '?') + '&w=' + w).then(function(r){
    return r.json().then(function(body){ return [r.ok, body]; });
  }).then(function(res){
    if (!res[0]) { el('error').style.display = 'block'; el('error').textContent = res[1].error; return; }
    show(res[1]);
  });
}
el('back').addEventListener('click', function(){
  if (!view || !view.path || view.step < 1) return;
  redo.push(location.search);
  go(view.path[view.step - 1].link, false);
});
el('forward').addEventListener('click', function(){ if (redo.length) go(redo.pop(), false); });
window.addEventListener('popstate', load);
load();
})();
</script></body></html>
"""
