"""A check over a set field that reads nothing of the state but the element: one verdict per element, as a mask.

Why: TLA+'s ``TypeOK`` over a message set (``msgs \\subseteq Message``), written plainly as a loop over
``s.msgs`` whose body checks the message alone, reads every message of the state.  As a memo key that is a
new key on nearly every state; called on the decoded state it costs what it costs interpreted (Classic
Paxos's ``PaxosTypeOK``: a third of the compiled search).  Its body reads nothing of the state but the
element, so its verdict is a property of the element: computed once per element, as the search numbers it,
and a state fails exactly when its set holds an element that failed, one AND of the packed state.

Recognised, at the top of an invariant (no guard or loop around it):

* ``for x in s.f: BODY`` over a set field, where ``BODY`` holds only assignments to plain names, ``if``
  statements, ``continue`` and ``return False``; every name it assigns is assigned before it is read in the
  same pass (no value carried from one element to the next) and is used nowhere else in the function (a
  loop's names outlive it); the names it reads besides those are ``self``, globals, or assignments made
  before the loop that do not read the state;
* ``all(E for x in s.f if C)`` and ``not any(...)`` where ``E`` and ``C`` read the same.

Exact: the loop fails on a state exactly when its body returns False (or raises) for one of the state's
elements, and the body's outcome for an element depends on nothing else.  The verdicts are still compared
with the real piece on the first states judged (``ElementVerdicts.failing``), and a disagreement sends the
piece back to being called on the decoded state.
"""

from __future__ import annotations

import ast
import copy
from typing import Any, Callable

import numpy as np

from consensuslab.checkers.compiled.checks import (
    BINDING_REFUSED,
    Context,
    loaded,
    names,
    only_checks,
    plain_target,
    state_field,
    store,
    targets,
    used_outside,
)
from consensuslab.checkers.compiled.packing import SET
from consensuslab.checkers.compiled.words import holding_any, to_ints

#: the element's parameter in a verdict function
ELEMENT = "_element"
#: states whose verdict is also asked of the real piece, on the decoded state
CONFIRMED = 64


class NotElementwise(Exception):
    pass


def loop_verdict(loop: ast.For, ctx: Context, layout, scopes: list) -> tuple[str, ast.Module] | None:
    """``(field, verdict function tree)`` of a loop over a set field that checks each element alone, or None."""
    field = _set_field(loop.iter, ctx, layout)
    if field is None or loop.orelse or not _at_top(ctx):
        return None
    bound = _bound(loop.target)
    if bound is None or not only_checks(loop.body, binds=True):
        return None
    assigned = bound | {n.id for st in loop.body for n in ast.walk(st)
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    try:
        _flow(loop.body, set(bound), assigned)
    except NotElementwise:
        return None
    if used_outside(assigned, loop, scopes):
        return None
    body = [_Continued().visit(copy.deepcopy(st)) for st in loop.body]
    return _verdict(field, loop.target, body + [ast.Return(value=ast.Constant(value=True))],
                    _free(loop.body) - assigned, ctx)


def quantifier_verdict(gen: ast.comprehension, check: ast.expr, ctx: Context, layout) -> tuple | None:
    """The same for ``all(check for x in s.f if C)`` (``check`` already negated for ``not any``)."""
    field = _set_field(gen.iter, ctx, layout)
    bound = _bound(gen.target)
    if field is None or bound is None or gen.is_async or not _at_top(ctx):
        return None
    parts = [check, *gen.ifs]
    if any(isinstance(n, BINDING_REFUSED) for p in parts for n in ast.walk(p)):
        return None
    body: list[ast.stmt] = [ast.If(test=ast.UnaryOp(op=ast.Not(), operand=copy.deepcopy(c)),
                                   body=[ast.Return(value=ast.Constant(value=True))], orelse=[]) for c in gen.ifs]
    body.append(ast.Return(value=copy.deepcopy(check)))
    free: set[str] = set()
    for p in parts:
        free |= loaded(p)
    return _verdict(field, gen.target, body, free - bound, ctx)


def _verdict(field: str, target: ast.expr, body: list, free: set[str], ctx: Context):
    if free & ({ctx.state} | ctx.states):
        return None
    before = _before(free, ctx)
    if before is None:
        return None
    bind = ast.Assign(targets=[store(target)], value=ast.Name(id=ELEMENT, ctx=ast.Load()))
    fdef = ast.FunctionDef(name=f"{field}_element", args=ast.arguments(
        posonlyargs=[], args=[ast.arg(arg="self"), ast.arg(arg=ELEMENT)], vararg=None, kwonlyargs=[],
        kw_defaults=[], kwarg=None, defaults=[]), body=before + [bind] + body, decorator_list=[], returns=None)
    if "type_params" in ast.FunctionDef._fields:
        fdef.type_params = []
    return field, ast.fix_missing_locations(ast.Module(body=[fdef], type_ignores=[]))


def _set_field(node: ast.expr, ctx: Context, layout) -> str | None:
    field = state_field(node, ctx, layout)
    return field.name if field is not None and field.kind == SET else None


def _at_top(ctx: Context) -> bool:
    """No loop, guard or branch around the check: it is a conjunct of the whole invariant."""
    return not ctx.params and all(kind == "assign" for kind, _ in ctx.entries)


def _bound(target: ast.expr) -> set[str] | None:
    return names(target) if plain_target(target) else None


def _flow(stmts: list, defined: set[str], assigned: set[str]) -> set[str] | None:
    """The names surely assigned when control falls off ``stmts`` (None: it never does); raises
    ``NotElementwise`` where a name the body assigns is read before this pass assigned it."""
    for st in stmts:
        if isinstance(st, ast.If):
            _reads_defined(st.test, defined, assigned)
            a, b = _flow(st.body, defined, assigned), _flow(st.orelse, defined, assigned)
            if a is None and b is None:
                return None
            defined = a if b is None else b if a is None else a & b
        elif isinstance(st, ast.Assign):
            _reads_defined(st.value, defined, assigned)
            defined = defined | targets(st)
        elif isinstance(st, (ast.Continue, ast.Return)):
            return None
    return defined


def _reads_defined(node: ast.expr, defined: set[str], assigned: set[str]) -> None:
    if (loaded(node) & assigned) - defined:
        raise NotElementwise


def _free(stmts: list) -> set[str]:
    out: set[str] = set()
    for st in stmts:
        out |= loaded(st)
    return out


def _before(free: set[str], ctx: Context) -> list | None:
    """The assignments before the check that it reads, none of which may read the state (None)."""
    needed, kept = set(free), []
    for kind, stmt in reversed(ctx.entries):
        if kind == "assign" and needed & targets(stmt):
            if ctx.depends_on_state(stmt.value):
                return None
            needed |= names(stmt.value)
            kept.append(copy.deepcopy(stmt))
    kept.reverse()
    return kept


class _Continued(ast.NodeTransformer):
    """``continue`` in the loop's body is the verdict ``True`` for this element (the body holds no loop)."""

    def visit_Continue(self, node: ast.Continue):
        return ast.copy_location(ast.Return(value=ast.Constant(value=True)), node)


class ElementVerdicts:
    """One check's verdict for each element its set field has numbered, and the mask of those that failed."""

    def __init__(self, unit, field: str, verdict: Callable[[Any], Any]):
        self.unit, self.field, self.verdict = unit, field, verdict
        self.judged = 0  # elements numbered so far whose verdict is known
        self.bad = 0  # their failing ones, a bit per element number
        self.confirmed = 0  # states also judged by the real piece
        self.broken = False  # the real piece disagreed: it is called on the decoded state from now on

    def failing(self, layout, states: np.ndarray) -> list[int]:
        """The packed ``states`` (an array) whose set holds an element that fails the check (or raises on it),
        found in numpy: no state is made a Python int unless it fails or is confirmed."""
        field = layout.by_name[self.field]
        values = field.interner.values
        while self.judged < len(values):
            try:
                ok = self.verdict(values[self.judged])
            except Exception:
                ok = False
            if not ok:
                self.bad |= 1 << self.judged
            self.judged += 1
        mask = self.bad << field.offset
        out = to_ints(states[holding_any(states, mask)]) if mask else []
        if self.confirmed < CONFIRMED:
            self._confirm(layout, to_ints(states[:CONFIRMED - self.confirmed]), set(out))
        return out

    def _confirm(self, layout, states: list[int], failing: set[int]) -> None:
        unit = self.unit
        for s in states:
            try:
                held = bool(unit.fn(layout.decode(s), *unit.args))
            except Exception:
                held = False
            if held == (s in failing):
                self.broken = True
        self.confirmed += len(states)
