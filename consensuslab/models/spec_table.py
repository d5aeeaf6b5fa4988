"""A spec's actions as declared: their argument domains, expanded into labelled steps.

``@action(i="Node", j=lambda self, i: ...)`` gives each parameter a domain.
A domain that depends on nothing or only on earlier parameters is expanded
once, into the *action table* (rows ``(label, method, args)``), which both
engines run as it is; so is an action that yields several next states under
labels it declares (``branches=("Commit", "Abort")``: one row per branch).
A domain that depends on the state (``\\E m \\in msgs``: ``m=lambda self, s:
s.msgs``) and an action that yields next states without declaring their labels
are expanded per state: such actions are *per-state* actions (the compiled
search gives them rows per argument met, ``checkers/compiled/domains.py``).
"""

from __future__ import annotations

import inspect
import itertools
from typing import Any, Callable, Iterable

from consensuslab.errors import ModelError
from consensuslab.models.action import Action
from consensuslab.models.branch_numbers import change_order
from consensuslab.models.values import canon


#: the runs of a branched action its rows remember (``BranchRuns``): the compiled search traces a level's keys
#: for one row and then for the next, each on the same views
RUNS_KEPT = 4096


class Domain:
    """One parameter's domain: fixed values, or a function of the spec, the state and earlier arguments."""

    __slots__ = ("param", "values", "fn", "needs", "reads_state")

    def __init__(self, param: str, values: list | None, fn: Callable | None = None, needs: tuple = (),
                 reads_state: bool = False):
        self.param, self.values, self.fn, self.needs, self.reads_state = param, values, fn, needs, reads_state

    def at(self, spec, state, bound: dict) -> Iterable:
        """The values for this parameter given the state and the arguments bound so far."""
        if self.values is not None:
            return self.values
        kwargs = {n: bound[n] for n in self.needs}
        return self.fn(spec, state, **kwargs) if self.reads_state else self.fn(spec, **kwargs)


class Declared:
    """One ``@action`` method of a spec instance, with its domains and declarations."""

    def __init__(self, spec, name: str, member: Callable):
        self.spec, self.name = spec, name
        self.fn = getattr(spec, name)
        self.by: str | None = getattr(member, "__consensuslab_by__", None)
        self.fault: bool | Callable = getattr(member, "__consensuslab_fault__", False)
        #: the variables it declares unchanged (None: it does not say)
        self.unchanged: tuple[str, ...] | None = getattr(member, "__consensuslab_unchanged__", None)
        self.branched = inspect.isgeneratorfunction(member)
        labels = getattr(member, "__consensuslab_branches__", None)
        self.branch_labels: tuple | None = None if labels is None else tuple(labels)
        if self.branch_labels is not None and not self.branched:
            raise ModelError(f"{spec.name}: action {name} declares branches={self.branch_labels!r} but does not "
                             f"yield: yield (label, next state) for each branch, or drop branches=")
        names = list(inspect.signature(member).parameters)
        if len(names) < 2:
            raise ModelError(f"{spec.name}: action {name} must take (self, state, *arguments)")
        self.state_name, self.params = names[1], names[2:]
        domains = member.__consensuslab_action__
        missing = [p for p in self.params if p not in domains]
        if missing:
            raise ModelError(f"{spec.name}: action {name}: no domain for parameter {missing[0]} "
                             f"(declare @action({missing[0]}=...))")
        extra = sorted(set(domains) - set(self.params))
        if extra:
            raise ModelError(f"{spec.name}: action {name} has no parameter {extra[0]!r} for its domain "
                             f"(parameters: {', '.join(self.params) or 'none'})")
        self.domains = [self._domain(p, domains[p], self.params[:k]) for k, p in enumerate(self.params)]
        self.per_state = (self.branched and self.branch_labels is None) or any(d.reads_state for d in self.domains)
        self._labels: dict[tuple, Action] = {}
        self._runs: BranchRuns | None = None  # the last run, shared by the rows of the branches (``branch``)

    def _domain(self, param: str, domain: Any, earlier: list[str]) -> Domain:
        where = f"{self.spec.name}: action {self.name}: the domain of {param}"
        if isinstance(domain, str):
            value = getattr(self.spec, domain, None)
            if value is None:
                raise ModelError(f"{where} is {domain!r}, which is not an attribute of the spec "
                                 f"(set self.{domain} in setup, or give the values)")
            return Domain(param, _listed(where, value))
        if not callable(domain):
            return Domain(param, _listed(where, domain))
        names = list(inspect.signature(domain).parameters)
        reads_state = len(names) > 1 and names[1] == self.state_name
        needs = tuple(names[2:] if reads_state else names[1:])
        wrong = [n for n in needs if n not in earlier]
        if wrong or not names:
            raise ModelError(f"{where} takes parameter {wrong[0] if wrong else '?'}, which is neither the "
                             f"state ({self.state_name}) nor an earlier parameter ({', '.join(earlier) or 'none'}); "
                             f"a domain is a function of (self[, {self.state_name}][, earlier parameters])")
        if not reads_state and not needs:
            return Domain(param, _listed(where, domain(self.spec)))
        return Domain(param, None, domain, needs, reads_state)

    # -- expansion ----------------------------------------------------------------------
    def arguments(self, state=None, ranges: dict[int, list] | None = None) -> list[tuple]:
        """Every argument tuple (for a per-state action: at ``state``), in domain order; ``ranges``: values given
        for some parameters (by position) in place of their domains.

        Built level by level, not by a recursive closure: a closure that calls itself is a reference cycle, and
        the searches run with the cyclic collector off, so every state's arguments were kept (Fast Paxos with
        ``--symmetry``: 137 MB more)."""
        if not ranges and all(d.values is not None for d in self.domains):
            return [tuple(a) for a in itertools.product(*[d.values for d in self.domains])]
        spec = self.spec
        binding = any(d.needs for d in self.domains)  # only then is each prefix's bound dict needed
        prefixes: list[tuple[tuple, dict]] = [((), {})]
        for k, d in enumerate(self.domains):
            longer = []
            for args, bound in prefixes:
                values = ranges[k] if ranges and k in ranges else d.at(spec, state, bound)
                for value in values:
                    longer.append((args + (value,), {**bound, d.param: value} if binding else bound))
            prefixes = longer
        return [args for args, _ in prefixes]

    def label(self, args: tuple) -> Action:
        got = self._labels.get(args)
        if got is None:
            got = self._labels[args] = Action("step", self.name, None, args)
        return got

    def steps(self, state, order: Callable | None = None) -> list[tuple[Action, Any]]:
        """This action's steps from ``state`` (a per-state action: its arguments at ``state``, its branches);
        ``order``: how unlabelled branches are numbered (``branches``)."""
        out = []
        fn = self.fn
        for args in self.arguments(state):
            result = fn(state, *args)
            if result is None:
                continue
            if self.branched:
                out.extend(self.branches(state, args, result, order))
            else:
                out.append((self.label(args), result))
        return out

    def row_arguments(self, state, order: Callable | None = None) -> list[tuple]:
        """The arguments of this per-state action's steps at ``state``: a branched action's end with the branch
        (each step is a row of the compiled action table, ``checkers/compiled/domains.py``)."""
        if not self.branched:
            return self.arguments(state)
        return [label.args for label, _ in self.steps(state, order)]

    def branch_step(self, state, row: tuple, fn: Callable | None = None, order: Callable | None = None,
                    listed: bool = True):
        """The next state of the step whose arguments are ``row`` (the action's arguments, then its branch) at
        ``state``, or None; ``fn``: the action as it runs on ``state`` (a traced view's twin); ``listed``: False
        where the caller has found the arguments in their domains."""
        args = row[:-1]
        if listed and args not in self.arguments(state):
            return None
        results = (fn or self.fn)(state, *args)
        if results is None:
            return None
        for label, nxt in self.branches(state, args, results, order):
            if label.args == row:
                return nxt
        return None

    def branches(self, state, args: tuple, results, order: Callable | None = None) -> list[tuple[Action, Any]]:
        """The next states an action yielded from ``state``, each labelled ``Name(args..., branch)``.

        ``yield label, state`` names a branch; plain ``yield state`` branches are
        numbered 1, 2, ... in the order of what they change (``branch_numbers``:
        the same in every process, unlike the order of iterating a set);
        ``order(state, next states)`` (by default ``change_order``) gives them
        distinct and in that order.  Equal next states of unnamed branches are
        one step, as in TLC.
        """
        named: dict[Any, Any] = {}
        plain: list = []
        for item in results:
            if item is None:
                continue
            if type(item) is tuple:
                if len(item) != 2:
                    raise ModelError(f"{self.spec.name}: action {self.name} yielded a tuple of {len(item)}; "
                                     f"yield a next state, or (branch label, next state)")
                key, nxt = item
                if key in named and named[key] != nxt:
                    raise ModelError(f"{self.spec.name}: action {self.name}{args}: branch {key!r} yielded two "
                                     f"different next states; give each branch its own label")
                named[key] = nxt
            else:
                plain.append(item)
        if named and plain:
            raise ModelError(f"{self.spec.name}: action {self.name} yields both labelled and unlabelled next "
                             f"states; label all of them (yield label, state) or none")
        if plain:
            ordered = (order or change_order)(state, plain)
            return [(self.label(args + (k,)), nxt) for k, nxt in enumerate(ordered, start=1)]
        return [(self.label(args + (key,)), nxt) for key, nxt in sorted(named.items(), key=lambda kv: canon(kv[0]))]


    def rows(self) -> list[tuple[Action, Callable, tuple]]:
        """This fixed-domain action's rows of the action table (a branched one: one row per declared branch)."""
        if not self.branched:
            return [(self.label(args), self.fn, args) for args in self.arguments()]
        return [(self.label(args + (key,)), self.branch(key), args)
                for args in self.arguments() for key in self.branch_labels]

    def branch(self, key) -> Callable:
        """The method that runs the action and returns the next state of branch ``key`` (None: no such step).

        The rows of one action's branches share its last run (``BranchRuns``): called on the same state object
        with the same arguments, the second branch takes the first one's items instead of running it again."""
        if self._runs is None:
            self._runs = BranchRuns(self.fn, self.branch_labels, f"{self.spec.name}: action {self.name}")
        runs = self._runs

        def one_branch(state, *args):
            found = None
            for label, nxt in runs.items(state, args):
                if label == key:
                    found = nxt
            return found

        one_branch.__name__ = f"{self.name}_{key}"
        one_branch.branch_runs = runs  # the compiled search traces a state once for all the branches' rows
        return one_branch


class BranchRuns:
    """The items ``(label, next state)`` a branched action yielded, for the last states it ran on.

    Why: the action table has one row per branch, and each row would run the whole action (PaxosCommit's
    ``Decide`` decides both branches' conditions on every run: its two rows ran it twice a state).  Kept by
    identity of the state (held, so no other object can have its ``id``), so it is right for any object the
    rows are called on; the compiled search hands the branches' traced calls one view of a state for this.
    """

    __slots__ = ("fn", "labels", "where", "runs")

    def __init__(self, fn: Callable, labels: tuple, where: str):
        self.fn, self.labels, self.where = fn, labels, where
        self.runs: dict[int, tuple] = {}  # id(state) -> (state, arguments, items)

    def items(self, state, args: tuple) -> tuple:
        run = self.runs.get(id(state))
        if run is not None and run[0] is state and run[1] == args:
            return run[2]
        found = []
        for item in self.fn(state, *args):
            if type(item) is not tuple or len(item) != 2:
                raise ModelError(f"{self.where} declares branches, so it must yield (label, next state), not "
                                 f"{type(item).__name__}")
            if item[0] not in self.labels:
                raise ModelError(f"{self.where} yielded branch {item[0]!r}, which is not among its declared "
                                 f"branches ({', '.join(map(repr, self.labels))})")
            found.append(item)
        found = tuple(found)
        if len(self.runs) >= RUNS_KEPT:
            self.runs = {}
        self.runs[id(state)] = (state, args, found)
        return found


def _listed(where: str, value: Any) -> list:
    try:
        return list(value)
    except TypeError:
        raise ModelError(f"{where} is a {type(value).__name__}, not a collection of values") from None


def declared_actions(spec) -> list[Declared]:
    """Every ``@action`` of ``spec``'s class (subclasses override by name), in name order."""
    found: dict[str, Callable] = {}
    for klass in reversed(type(spec).__mro__):
        for name, member in vars(klass).items():
            if getattr(member, "__consensuslab_action__", None) is None:
                found.pop(name, None)  # overridden by something that is no longer an action
            else:
                found[name] = member
    return [Declared(spec, name, member) for name, member in sorted(found.items())]


def action_rows(decls: list[Declared]) -> list[tuple[Action, Callable, tuple]]:
    """The action table: ``(label, method, args)`` for every argument tuple of the fixed-domain actions."""
    table = [row for d in decls if not d.per_state for row in d.rows()]
    table.sort(key=lambda row: row[0].key)
    return table


def unrolled_successors(table: list[tuple[Action, Callable, tuple]], per_state: list[Callable]) -> Callable:
    """``successors(state)`` as straight-line code, one guarded call per table row.

    A loop over the table spends most of its time unpacking rows and
    star-calling; the unrolled function makes each row one direct call with
    constant arguments (measured on two-phase rm=6: successor generation took
    about 0.65 us of loop overhead per action before, a third of that after).
    Per-state actions (``steps(state)`` functions) append their steps after the rows, and the list
    is then sorted.
    """
    namespace: dict[str, Any] = {"_key": lambda pair: pair[0].key}
    lines = ["def successors(state):", "    out = []", "    append = out.append"]
    for i, (label, fn, args) in enumerate(table):
        namespace[f"f{i}"] = fn
        namespace[f"l{i}"] = label
        call_args = ["state"]
        for j, arg in enumerate(args):
            namespace[f"a{i}_{j}"] = arg
            call_args.append(f"a{i}_{j}")
        lines.append(f"    r = f{i}({', '.join(call_args)})")
        lines.append(f"    if r is not None: append((l{i}, r))")
    for k, steps in enumerate(per_state):
        namespace[f"p{k}"] = steps
        lines.append(f"    out.extend(p{k}(state))")
    if per_state:
        lines.append("    out.sort(key=_key)")
    lines.append("    return out")
    exec(compile("\n".join(lines), "<consensuslab successors>", "exec"), namespace)
    return namespace["successors"]
