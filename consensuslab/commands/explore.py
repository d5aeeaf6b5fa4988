"""``consensuslab explore``: walk a model by hand, one enabled action at a time.

It reads commands line by line from stdin, so a session can be scripted
(``printf '2\\n1\\nb\\nq\\n' | consensuslab explore two-phase``) and tested:

    N      take enabled action N (or, before the first step, initial state N)
    b      go back one step
    j N    jump to step N of the trace given with --trace (replayed, so real states)
    q      quit (so does end of input)

Each screen shows the step, the state (the fields the last step changed
marked ``*`` and highlighted on a terminal), the properties violated here,
and the enabled actions numbered; the next action of a loaded trace is
marked ``<- trace``.
"""

from __future__ import annotations

import sys

from consensuslab.commands.options import add_model_options, build_definition
from consensuslab.errors import ReplayError, UsageError

HELP = "commands: N take action N | b back | j N jump to trace step N | q quit"


def register(sub) -> None:
    p = sub.add_parser("explore", help="step through a model interactively",
                       description="An interactive explorer reading commands from stdin. " + HELP)
    add_model_options(p)
    p.add_argument("--trace", metavar="FILE", help="an ITF trace of this protocol to follow and jump in")
    p.set_defaults(handler=run)


class Session:
    """The explorer's state: the path walked so far and, optionally, a trace to follow."""

    def __init__(self, model, out, color: bool = False, trace=None):
        self.model, self.out, self.color, self.trace = model, out, color, trace
        self.path: list[tuple] = []  # (action or None for the initial state, state)
        self.options: list[tuple] = []

    def say(self, text: str = "", style: str | None = None) -> None:
        if self.color and style:
            from rich.console import Console
            from rich.text import Text

            Console(file=self.out, force_terminal=True, color_system="standard", width=200,
                    highlight=False).print(Text(text, style=style))
        else:
            self.out.write(text + "\n")

    def screen(self) -> None:
        from consensuslab.render.changes import changed_paths, state_diff
        from consensuslab.render.text import initial_lines

        if not self.path:
            self.options = [(None, s) for s in self.model.initial_states()]
            self.say(f"{self.model.protocol}: {len(self.options)} initial state(s); pick one")
            for i, (_, s) in enumerate(self.options, start=1):
                self.say(f"  [{i}] " + "; ".join(initial_lines(self.model, s)))
            return
        k = len(self.path) - 1
        act, state = self.path[-1]
        self.say(f"-- step {k}: {act if act is not None else 'initial state'}", "bold")
        changes = state_diff(self.model, self.path[-2][1], state) if k else []
        changed, marked = {c.path: c.text() for c in changes}, changed_paths(changes)
        for line in initial_lines(self.model, state):
            where = line.split(" = ", 1)[0]
            hit = where in marked or any(p.startswith(where) for p in changed)
            self.say(("* " if hit else "  ") + line, "bold yellow" if hit else None)
        for c in changed.values():
            self.say(f"  changed: {c}", "yellow")
        for prop in self.model.invariants:
            if not self.model.holds(prop, state):
                self.say(f"  ! {prop.name} is violated here", "bold red")
        self.options = self.model.successors(state)
        if not self.options:
            done = self.model.is_done(state)
            self.say("  no action is enabled" + (" (finished)" if done else " (deadlock)"), "red")
        following = self._trace_next()
        self.say("enabled actions:")
        for i, (a, _) in enumerate(self.options, start=1):
            mark = "  <- trace" if following is not None and a == following else ""
            self.say(f"  [{i}] {a}{mark}")

    def _trace_next(self):
        k = len(self.path) - 1
        if self.trace is None or k >= len(self.trace) or self.path[-1][1] != self.trace.states[k]:
            return None
        return self.trace.steps[k][0]

    def command(self, line: str) -> bool:
        """Handle one input line; False means quit."""
        words = line.split()
        if not words:
            return True
        head = words[0].lower()
        if head in ("q", "quit", "exit"):
            return False
        if head in ("b", "back"):
            if self.path:
                self.path.pop()
            else:
                self.say("already at the start")
        elif head in ("j", "jump"):
            self._jump(words[1:])
        elif head.isdigit():
            n = int(head)
            if not 1 <= n <= len(self.options):
                self.say(f"no action {n}: choose 1..{len(self.options)}")
                return True
            self.path.append(self.options[n - 1])
        else:
            self.say(f"unknown command {line.strip()!r}; {HELP}")
            return True
        self.screen()
        return True

    def _jump(self, args: list[str]) -> None:
        if self.trace is None:
            self.say("no trace loaded: start with --trace FILE")
            return
        if len(args) != 1 or not args[0].isdigit() or int(args[0]) > len(self.trace):
            self.say(f"j N needs a step number 0..{len(self.trace)}")
            return
        n = int(args[0])
        acts = [None] + self.trace.actions[:n]
        self.path = list(zip(acts, self.trace.states[: n + 1]))


def run(args) -> int:
    color = sys.stdout.isatty()
    trace = None
    if args.trace:
        from consensuslab.commands.replay import replay_file

        try:
            done = replay_file(args.trace, args.protocol)
        except ReplayError as exc:
            raise UsageError(f"trace {args.trace} does not replay: {exc}") from None
        model, trace = done.model, done.trace
    else:
        model = build_definition(args).compile()
    session = Session(model, sys.stdout, color, trace)
    session.say(HELP)
    if trace is not None:
        session.path = [(None, trace.initial)]
    elif len(model.initial_states()) == 1:
        session.path = [(None, model.initial_states()[0])]
    session.screen()
    while True:
        if color:
            sys.stdout.write("> ")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line or not session.command(line):
            break
    sys.stdout.flush()
    return 0
