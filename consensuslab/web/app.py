"""The browser explorer's server: a Flask app over one model, stateless per request.

Every request carries the path it is about (``?i=0&a=RMPrepare(r2)&a=...``:
the initial state's number and the actions taken, by label) and the server
rebuilds it by replaying those actions on the model, so any page is a link
that reproduces its state.  Flask was chosen because the work is synchronous
Python (successors, properties, rendering), a single local user needs no async
server, and Flask's test client lets the app be tested without a socket; the
server is Werkzeug's, bound to loopback by ``commands/serve.py``.

Routes: ``/`` the page (``page.py``), ``/api/view`` the state of a path as
JSON (state tree, enabled actions, properties, the chart so far, the loaded
trace), ``/api/itf`` the path as an ITF file to save.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from consensuslab.errors import ConsensuslabError
from consensuslab.render.changes import changed_paths, state_diff, state_tree
from consensuslab.render.explain import explain
from consensuslab.render.naming import Names
from consensuslab.render.story import build
from consensuslab.render.svg import chart
from consensuslab.render.text import initial_lines, verdict, who
from consensuslab.web.page import PAGE
from consensuslab.web.session import Exploration


def link(init: int, labels: list[str]) -> str:
    """The query string of a path: ``?i=0&a=...&a=...``."""
    return "?" + urlencode([("i", init)] + [("a", label) for label in labels])


class Explorer:
    """What the routes share: the model, a loaded trace, and caches that outlive a request."""

    def __init__(self, model, trace=None, seed: int = 0):
        self.model, self.trace, self.seed = model, trace, seed
        self.names = Names(model)
        self.numbers: dict = {}
        self.cache: dict = {}

    def walk(self, args) -> Exploration:
        walk = Exploration(self.model, self.trace, self.seed, self.numbers, self.cache)
        labels = args.getlist("a")
        if "i" in args or labels:
            try:
                init = int(args.get("i", "0"))
            except ValueError:
                raise ConsensuslabError(f"i={args.get('i')!r} is not an initial state number") from None
            walk.follow(init, labels)
        return walk

    def view(self, walk: Exploration, room: int = 1150) -> dict:
        """The page's data for the path ``walk`` holds; the chart's lanes share ``room`` px."""
        model, names = self.model, self.names
        out = {"protocol": model.protocol, "meta": model.meta(), "step": walk.step, "inits": len(walk.inits)}
        if not walk.path:
            out["actions"] = [{"n": n, "label": "; ".join(initial_lines(model, s, names)), "link": link(n - 1, [])}
                              for n, _, s in walk.options()]
            return out
        init, labels = walk.labels()
        trace = walk.as_trace()
        story = build(model, trace, names)
        v = walk.violation()
        notes = explain(model, trace, v, names) if v is not None else []
        before = walk.path[-2][1] if walk.step else None
        changes = state_diff(model, before, walk.state, names) if walk.step else []
        nxt = walk.trace_next()
        out.update({
            "path": [{"step": k, "action": label, "link": link(init, labels[:k])}
                     for k, label in enumerate(["initial state"] + labels)],
            "link": link(init, labels),
            "who": (who(story.events[-1]) if story.events else None) or "",
            "changes": [c.text() for c in changes],
            "tree": state_tree(model, walk.state, names, changed_paths(changes)),
            "actions": [{"n": n, "label": str(a), "link": link(init, labels + [str(a)]), "fault": model.is_fault(a),
                         "trace": nxt is not None and a == nxt} for n, a, _ in walk.options()],
            "deadlock": not walk.options() and not model.is_done(walk.state),
            "properties": [{"name": n, "kind": k, "verdict": x} for n, k, x in walk.properties()],
            "violation": {"property": v.property, "kind": v.kind, "verdict": verdict(v)} if v is not None else None,
            "notes": notes,
            "chart": chart(story, len(trace), verdict(v) if v is not None else None, [], room=room),
            "itf": "/api/itf" + link(init, labels),
        })
        if self.trace is not None:
            t_labels = [str(a) for a in self.trace.actions]
            on = walk.step if walk.step <= len(self.trace) and walk.state == self.trace.states[walk.step] else None
            out["trace"] = {"length": len(self.trace), "position": on,
                            "steps": [{"step": k, "action": lab, "link": link(init, t_labels[:k])}
                                      for k, lab in enumerate(["initial state"] + t_labels)]}
        return out


def create_app(model, trace=None, seed: int = 0):
    """The Flask app exploring ``model`` (with ``trace`` to step through, if given)."""
    from flask import Flask, Response, jsonify, request

    app = Flask("consensuslab.web")
    explorer = Explorer(model, trace, seed)

    @app.errorhandler(ConsensuslabError)
    def bad_path(exc):
        return jsonify({"error": str(exc)}), 400

    @app.get("/")
    def page():
        title = f"{model.protocol} explorer"
        return Response(PAGE.replace("{{title}}", title), mimetype="text/html")

    @app.get("/favicon.ico")
    def favicon():
        return Response(status=204)

    @app.get("/api/view")
    def view():
        room = request.args.get("w", "1150")
        room = max(300, min(4000, int(room))) - 60 if room.isdigit() else 1150
        return jsonify(explorer.view(explorer.walk(request.args), room))

    @app.get("/api/itf")
    def itf():
        walk = explorer.walk(request.args)
        if not walk.path:
            raise ConsensuslabError("pick an initial state first")
        body = json.dumps(walk.document(), indent=1) + "\n"
        name = f"{model.protocol}-{walk.step}-steps.itf.json"
        return Response(body, mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return app
