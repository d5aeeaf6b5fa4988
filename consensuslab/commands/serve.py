"""``consensuslab serve``: explore a model's state space in a browser, on this machine only.

The page shows the state as a tree, the enabled actions, the sequence chart of
the path growing as you go, Back and Forward, every property evaluated at the
current state, a loaded trace to step through, the path saved as ITF, and a
link per state.  It listens on loopback only (``--host`` accepts loopback
addresses); ``--port 0`` picks a free port, and the first line printed says
where.  Needs Flask: ``pip install -e ".[web]"``.
"""

from __future__ import annotations

import ipaddress
import sys

from consensuslab.commands.options import add_model_options, non_negative_int
from consensuslab.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("serve", help="explore a model in a browser (a local web server)",
                       description="Serve a page on which to walk the protocol's state space: the state as a "
                                   "tree, enabled actions, the sequence chart, properties, back/forward, a loaded "
                                   "trace, ITF export, a link per state. Loopback only.")
    add_model_options(p)
    p.add_argument("--trace", metavar="FILE", help="an ITF trace of this protocol to step through")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=non_negative_int, default=8765, metavar="N",
                   help="port (default 8765; 0 picks a free one)")
    p.add_argument("--seed", type=non_negative_int, default=0, metavar="N", help="seed of random choices (default 0)")
    p.set_defaults(handler=run)


def loopback(host: str) -> str:
    """``host`` if it is a loopback address; a one-line UsageError otherwise."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise UsageError(f"--host {host}: serve listens on loopback only (127.0.0.1, ::1 or localhost)")


def run(args) -> int:
    host = loopback(args.host)
    try:
        from werkzeug.serving import make_server

        from consensuslab.web.app import create_app
    except ImportError:
        raise UsageError('serve needs Flask: pip install -e ".[web]"') from None
    from consensuslab.commands.explore import starting_point

    model, trace = starting_point(args)
    try:
        server = make_server(host, args.port, create_app(model, trace, args.seed), threaded=False)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{args.port}: {exc.strerror}") from None
    where = f"[{host}]" if ":" in host else host
    print(f"serving {model.protocol} on http://{where}:{server.port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0
