"""``consensuslab explore``: walk a model by hand in the terminal, one enabled action at a time.

On a terminal it reads commands with line editing and a history kept between
sessions (readline); from a pipe it reads them line by line, so a session can
be scripted and tested (``printf '2\\n1\\nb\\nq\\n' | consensuslab explore two-phase``).
Each screen shows the step, the state (the fields the last step changed marked
``*``), who did what to whom, the properties violated here, and the enabled
actions.  An action keeps its number for the whole session; the next action
of a loaded trace is marked ``<- trace``.  ``consensuslab serve`` is the same
walk in a browser.
"""

from __future__ import annotations

import os
import sys

from consensuslab.commands.options import add_model_options, build_definition, non_negative_int
from consensuslab.errors import ReplayError, UsageError

COMMANDS = (
    ("N", "take enabled action N (before the first step: initial state N)"),
    ("b, back", "go back one step"),
    ("f, forward", "redo the step undone by back"),
    ("r, random [K]", "take K random enabled actions (default 1; --seed makes them repeatable)"),
    ("p, path", "print the path so far"),
    ("s, save FILE", "save the path as an ITF trace (replayable when it ends in a violation)"),
    ("j N", "jump to step N of the trace given with --trace"),
    ("h, help", "this list"),
    ("q, quit", "leave (so does end of input)"),
)
HELP = "commands: N take action N | b back | f forward | r random | p path | s save FILE | j N jump | h help | q quit"


def register(sub) -> None:
    p = sub.add_parser("explore", help="step through a model interactively",
                       description="An interactive explorer reading commands from stdin. Commands: "
                                   + "; ".join(f"{c}: {w}" for c, w in COMMANDS))
    add_model_options(p)
    p.add_argument("--trace", metavar="FILE", help="an ITF trace of this protocol to follow and jump in")
    p.add_argument("--seed", type=non_negative_int, default=0, metavar="N", help="seed of `random` (default 0)")
    p.set_defaults(handler=run)


class Screen:
    """Prints an ``Exploration`` and runs the commands typed at it."""

    def __init__(self, walk, out, color: bool = False):
        from consensuslab.render.naming import Names

        self.walk, self.out, self.color = walk, out, color
        self.names = Names(walk.model)

    def say(self, text: str = "", style: str | None = None) -> None:
        if self.color and style:
            from rich.console import Console
            from rich.text import Text

            Console(file=self.out, force_terminal=True, color_system="standard", width=200,
                    highlight=False).print(Text(text, style=style))
        else:
            self.out.write(text + "\n")

    def show(self) -> None:
        from consensuslab.render.text import initial_lines

        walk, model = self.walk, self.walk.model
        if not walk.path:
            self.say(f"{model.protocol}: {len(walk.inits)} initial state(s); pick one")
            for n, _, s in walk.options():
                self.say(f"  [{n}] " + "; ".join(initial_lines(model, s, self.names)))
            return
        k, (act, state) = walk.step, walk.path[-1]
        self.say(f"-- step {k}: {act if act is not None else 'initial state'}", "bold")
        whom = self._who() if k else None
        if whom:
            self.say(f"  {whom}", "green")
        self._state(k, state)
        for name, kind, verdict in walk.properties():
            if verdict == "VIOLATED":
                self.say(f"  ! {name} is violated here", "bold red")
        opts = walk.options()
        if not opts:
            self.say("  no action is enabled" + (" (finished)" if model.is_done(state) else " (deadlock)"), "red")
        following = walk.trace_next()
        self.say("enabled actions:")
        for n, a, _ in opts:
            self.say(f"  [{n}] {a}{'  <- trace' if following is not None and a == following else ''}")

    def _state(self, k: int, state) -> None:
        from consensuslab.render.changes import changed_paths, state_diff
        from consensuslab.render.text import initial_lines

        model = self.walk.model
        changes = state_diff(model, self.walk.path[-2][1], state, self.names) if k else []
        changed, marked = {c.path: c.text() for c in changes}, changed_paths(changes)
        for line in initial_lines(model, state, self.names):
            where = line.split(" = ", 1)[0]
            hit = where in marked or any(p.startswith(where) for p in changed)
            self.say(("* " if hit else "  ") + line, "bold yellow" if hit else None)
        for c in changed.values():
            self.say(f"  changed: {c}", "yellow")

    def _who(self) -> str | None:
        from consensuslab.render.story import build
        from consensuslab.render.text import who

        trace = self.walk.as_trace()
        return who(build(self.walk.model, trace, self.names).events[-1])

    def path_lines(self) -> list[str]:
        walk = self.walk
        init, labels = walk.labels()
        head = f"path ({len(labels)} steps" + (f", from initial state {init + 1})" if len(walk.inits) > 1 else ")")
        return [head] + [f"  {k:>3}  {label}" for k, label in enumerate(labels, start=1)]

    def command(self, line: str) -> bool:
        """Handle one input line; False means quit."""
        words = line.split()
        if not words:
            return True
        head, rest = words[0].lower(), words[1:]
        if head in ("q", "quit", "exit"):
            return False
        try:
            again = self._run(head, rest, line)
        except UsageError as exc:
            self.say(str(exc))
            return True
        if again:
            self.show()
        return True

    def _run(self, head: str, rest: list[str], line: str) -> bool:
        """Run one command; True when the screen should be shown again."""
        walk = self.walk
        if head in ("h", "help", "?"):
            self.say("\n".join(f"  {c:<14} {w}" for c, w in COMMANDS))
            return False
        if head in ("p", "path"):
            self.say("\n".join(self.path_lines()))
            return False
        if head in ("s", "save"):
            self._save(rest)
            return False
        if head in ("b", "back"):
            if not walk.back():
                self.say("already at the start")
                return False
        elif head in ("f", "forward"):
            if not walk.forward():
                self.say("nothing to redo")
                return False
        elif head in ("r", "random"):
            count = int(rest[0]) if rest and rest[0].isdigit() else 1
            self.say(f"took {walk.random_steps(count)} random step(s)")
        elif head in ("j", "jump"):
            if len(rest) != 1 or not rest[0].isdigit():
                raise UsageError("j N needs a step number")
            walk.jump(int(rest[0]))
        elif head.isdigit():
            if not walk.path:
                n = int(head)
                if not 1 <= n <= len(walk.inits):
                    raise UsageError(f"no initial state {n}: choose 1..{len(walk.inits)}")
                walk.follow(n - 1, [])
            else:
                walk.take(int(head))
        else:
            raise UsageError(f"unknown command {line.strip()!r}; {HELP}")
        return True

    def _save(self, rest: list[str]) -> None:
        import json

        if len(rest) != 1:
            raise UsageError("save needs a file name: save FILE")
        if not self.walk.path:
            raise UsageError("pick an initial state first")
        doc = self.walk.document()
        try:
            with open(rest[0], "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1)
                fh.write("\n")
        except OSError as exc:
            raise UsageError(f"cannot write {rest[0]!r}: {exc.strerror}") from None
        v = self.walk.violation()
        from consensuslab.render.text import replay_command

        tail = (f"ends in {v.property} ({v.kind}); replay: {replay_command(rest[0], self.walk.model.meta())}"
                if v is not None
                else "no property fails at its end, so `consensuslab replay` will not take it")
        self.say(f"saved {self.walk.step} steps to {rest[0]}: {tail}")


def history_file() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "consensuslab", "explore_history")


def read_lines(interactive: bool):
    """Input lines: with readline's editing and a saved history on a terminal, plain from a pipe."""
    if not interactive:
        while line := sys.stdin.readline():
            yield line
        return
    import readline

    path = history_file()
    try:
        readline.read_history_file(path)
    except OSError:
        pass
    readline.set_history_length(1000)
    try:
        while True:
            try:
                yield input("> ")
            except EOFError:
                return
    finally:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            readline.write_history_file(path)
        except OSError:
            pass


def starting_point(args) -> tuple:
    """The model and the trace to walk (``--trace FILE``, replayed first; else the named protocol and no trace):
    what ``explore`` and ``serve`` start from."""
    if not args.trace:
        return build_definition(args).compile(), None
    from consensuslab.commands.replay import replay_file

    try:
        done = replay_file(args.trace, args.protocol)
    except ReplayError as exc:
        raise UsageError(f"trace {args.trace} does not replay: {exc}") from None
    return done.model, done.trace


def run(args) -> int:
    from consensuslab.web.session import Exploration

    model, trace = starting_point(args)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    screen = Screen(Exploration(model, trace, args.seed), sys.stdout, color=sys.stdout.isatty())
    screen.say(HELP)
    screen.show()
    for line in read_lines(interactive):
        if not screen.command(line):
            break
    sys.stdout.flush()
    return 0
