"""An invariant split into pieces whose conjunction it is, each piece memoised on the few bits it reads.

A memo entry is keyed on every bit its function read, so an invariant that
reads the whole state (a TLA+ ``Inv`` or ``TypeOK`` over quantifiers) misses
on nearly every state.  Written plainly, such invariants are conjunctions:

    if not self.TypeOK(s): return False              # the pieces of TypeOK
    votes = self.votes(s)                             # kept for the pieces that use it
    for i, a in enumerate(self.Acceptor):             # one piece per acceptor ...
        if s.maxVBal[i] == -1:
            if s.maxVal[i] is not None: return False  # ... and per check
    return all(r in VALUES for r in s.x)              # one piece per slot of the tuple x

So the source is read and cut, where it provably means the same, into
functions ``(self, s, *args)`` whose conjunction is the invariant:

* ``if C: return False`` is the piece ``not C``; an ``if`` whose branches hold
  only such checks is cut branch by branch, each piece guarded by its branch's
  condition; ``if C: return X`` is the piece ``X`` guarded by ``C``, and the
  statements after it are guarded by ``not C``;
* a ``for`` loop over values that do not depend on the state (``self.Acceptor``,
  ``range(self.n)``) or over a tuple field (``s.pc``, ``enumerate(s.pc)``) whose
  body holds only checks (and ``continue``) is one piece per element and check;
* ``return a and b``, ``return all(E for x in X)`` and ``return not any(...)``
  are cut the same way; ``self.M(s, ...)`` of a method of the spec, where its
  truth is required (a returned value, ``if not self.M(s): return False``), is
  cut as ``M``'s own pieces;
* a loop or ``all(...)`` at the top over a set field whose checks read the
  element alone is one piece, judged per element (``elementwise.py``);
* plain assignments at the top of a function come before the pieces that use
  them; anything else ends the cutting, and the rest of the function is one piece.

Why the conjunction is exact: when the invariant holds, every check on its
path holds and every piece runs the code the invariant ran; when it fails,
the check that failed is one of the pieces.  A piece may raise on a state
where an earlier check would have returned False first (``bool(s.q) and
s.q[0] != 0``); it answers ``RAISED`` there, and the state fails
(``memo.Unit.piece``), as the invariant does.
"""

from __future__ import annotations

import ast
import copy
import inspect
import itertools
import textwrap
from typing import Any, Callable

from consensuslab.checkers.compiled.checks import (
    Cannot,
    Checks,
    Context,
    const,
    guard,
    is_false,
    is_true,
    names,
    negated,
    only_checks,
    own_names,
    state_field,
    store,
    targets,
)
from consensuslab.checkers.compiled.elementwise import loop_verdict, quantifier_verdict
from consensuslab.checkers.compiled.packing import SET

#: pieces one invariant may be cut into before it is left whole (each is a memo table and a look-up a state)
MAX_PIECES = 256
#: values a loop over constants may have to be cut per value
MAX_VALUES = 64


def path_condition(ctx: Context, after: Context) -> list[ast.expr]:
    """The conditions under which a branch that began at ``ctx`` falls off its end with ``after``: where each guard
    it added lets a piece apply (its own test first)."""
    added = after.entries[len(ctx.entries):]
    if any(kind not in ("guard", "assign") for kind, _ in added):
        raise Cannot("a branch that binds names")
    # an assignment inside a loop's branch is read in that branch only (``checks.own_names``): no path's condition
    return [negated(stmt.test) for kind, stmt in added if kind == "guard"]


class Piece:
    """One conjunct: a function ``(self, s, *params)`` and, per parameter, the values it takes.

    Pieces with the same ``clause`` (not None: its number, and how many of the parameters are bound by
    loops around it, whose values tell its instances apart) are alternatives: together they are one conjunct, their
    disjunction (``any(p != "Done" for p in s.pc) or any(v == 1 for v in s.y)``: one piece per slot).
    """

    def __init__(self, tree: ast.Module, domains: list[list[Any]], clause: tuple | None = None):
        self.tree, self.domains, self.clause = tree, domains, clause
        self.element: tuple | None = None  # (set field, verdict function tree): judged per element

    def arguments(self) -> list[tuple]:
        return list(itertools.product(*self.domains))


class Splitter(Checks):
    """Cuts the properties of one spec (``spec``: the object whose methods they are; ``layout``: the packing)."""

    def __init__(self, spec: Any, layout, alternatives: bool = True):
        self.spec, self.layout = spec, layout
        self.alternatives = alternatives  # may a disjunction be cut into alternatives?
        self.inlined = 0
        self.clauses = 0
        self.globals: dict = {}
        self.per_element = True  # may a loop over a set field be cut per element? (``_each_element``)

    # -- whole functions ------------------------------------------------------------------------------
    def pieces(self, fn: Callable) -> list[Piece] | None:
        """``fn``'s pieces, or None when it is not cut (one piece would be itself)."""
        found = self._function(fn)
        if found is None:
            return None
        fdef, body, state = found
        self.globals = getattr(fn, "__func__", fn).__globals__
        self.name = fdef.name
        self.scopes, self.elements = [fdef], []  # the code being cut; checks judged per element (``elementwise``)
        checks: list = []
        try:
            self._block(body, Context(state), checks, top=True)
        except Cannot:
            return None
        pieces = [self._piece(fdef, state, ctx, stmts, k, clause) for k, (ctx, stmts, *clause) in enumerate(checks)]
        for piece, (_, stmts, *_) in zip(pieces, checks):
            piece.element = next((found for cut, found in self.elements if cut is stmts), None)
        units = sum(len(p.arguments()) for p in pieces)
        if units > MAX_PIECES and self.per_element:  # too many cut per element: those loops stay whole
            self.per_element, self.clauses, self.inlined = False, 0, 0
            return self.pieces(fn)
        return pieces if 2 <= units <= MAX_PIECES or (units == 1 and pieces[0].element) else None

    def _element_piece(self, found: tuple | None, ctx: Context, check: ast.stmt, out: list) -> bool:
        """Cut ``check`` as a piece judged per element of a set field, where ``found`` says it can be."""
        if found is None:
            return False
        stmts = [check] if isinstance(check, ast.Return) else [check, ast.Return(value=ast.Constant(value=True))]
        out.append((ctx, stmts))
        self.elements.append((stmts, found))
        return True

    def _element_quantifier(self, gen: ast.comprehension, check: ast.expr, ctx: Context) -> tuple | None:
        return quantifier_verdict(gen, check, ctx, self.layout)

    @staticmethod
    def _function(fn: Callable):
        target = getattr(fn, "__func__", fn)
        code = getattr(target, "__code__", None)
        if code is None or code.co_freevars or code.co_argcount != 2 or code.co_flags & 0x0C:
            return None
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(target)))
        except (OSError, TypeError, SyntaxError):
            return None
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
            return None
        fdef = tree.body[0]
        body = fdef.body
        if body and isinstance(body[0], ast.Expr) and isinstance(const(body[0].value), str):
            body = body[1:]
        return fdef, body, fdef.args.args[1].arg

    def _piece(self, fdef: ast.FunctionDef, state: str, ctx: Context, stmts: list, k: int, clause: list) -> Piece:
        needed = set()
        for s in stmts:
            needed |= names(s)
        kept = []
        for kind, stmt in reversed(ctx.entries):
            if kind == "assign":
                if not needed & targets(stmt):
                    continue
            needed |= names(stmt)
            kept.append(stmt)
        kept.reverse()
        params = [p[0] for p in ctx.params]
        args = [ast.arg(arg="self"), ast.arg(arg=state)] + [ast.arg(arg=n) for n in params]
        piece = copy.copy(fdef)  # keeps every field of this Python's FunctionDef
        piece.name, piece.decorator_list, piece.returns = f"{fdef.name}_{k + 1}", [], None
        piece.args = ast.arguments(posonlyargs=[], args=args, vararg=None, kwonlyargs=[], kw_defaults=[],
                                   kwarg=None, defaults=[])
        piece.body = copy.deepcopy(kept + stmts)
        module = ast.Module(body=[piece], type_ignores=[])
        ast.fix_missing_locations(module)
        return Piece(module, [p[1] for p in ctx.params], clause[0] if clause else None)

    # -- statements -----------------------------------------------------------------------------------
    def _block(self, stmts: list, ctx: Context, out: list, top: bool = False, loop: bool = False) -> tuple:
        """Cut ``stmts`` under ``ctx`` into ``out``: whether control can fall off their end, and the context it
        falls with (``ctx`` and the guards of the branches on the way that leave: ``return True``, ``continue``)."""
        for i, st in enumerate(stmts):
            mark = len(out)
            try:
                falls, ctx = self._statement(st, ctx, out, top, loop)
            except Cannot:
                if not top:
                    raise
                del out[mark:]
                out.append((ctx, list(stmts[i:])))  # the rest of the function, as it is: one piece
                return False, ctx
            if not falls:
                return False, ctx
        return True, ctx

    def _statement(self, st: ast.stmt, ctx: Context, out: list, top: bool, loop: bool):
        if isinstance(st, ast.Pass) or (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant)):
            return True, ctx
        if isinstance(st, ast.Return):
            if st.value is None or is_false(st.value):
                out.append((ctx, [ast.Return(value=ast.Constant(value=False))]))
                return False, ctx
            if is_true(st.value):
                self._path_evaluated(ctx, out)
                return False, ctx
            if loop:
                raise Cannot("a loop that returns a value")
            self._expression(st.value, ctx, out)
            return False, ctx
        if isinstance(st, ast.Continue) and loop:
            self._path_evaluated(ctx, out)
            return False, ctx
        if isinstance(st, ast.Assign) and (top or loop) and all(isinstance(t, (ast.Name, ast.Tuple))
                                                                for t in st.targets):
            if targets(st) & {ctx.state}:
                raise Cannot("the state is reassigned")
            return True, ctx.plus("assign", st)
        if isinstance(st, ast.If):
            return self._if(st, ctx, out, loop)
        if isinstance(st, ast.For):
            return self._for(st, ctx, out), ctx
        raise Cannot(type(st).__name__)

    @staticmethod
    def _path_evaluated(ctx: Context, out: list) -> None:
        """A path that ends holding (``return True``, ``continue``) past guards: a piece that holds there and
        evaluates them, so that a guard that raises fails the state, as the invariant raises there (no other
        piece may evaluate a guard that no check follows)."""
        if any(kind == "guard" for kind, _ in ctx.entries):
            out.append((ctx, [ast.Return(value=ast.Constant(value=True))]))

    def _if(self, st: ast.If, ctx: Context, out: list, loop: bool):
        if len(st.body) == 1 and isinstance(st.body[0], ast.Return) and is_false(st.body[0].value) \
                and not st.orelse:
            self._expression(negated(st.test), ctx, out)  # ``if C: return False`` is the check ``not C``
            return True, ctx
        branches = [self._block(st.body, ctx.plus("guard", guard(st.test, True)), out, loop=loop),
                    self._block(st.orelse, ctx.plus("guard", guard(st.test, False)), out, loop=loop)]
        paths = [path_condition(ctx, after) for falls, after in branches if falls]
        if not paths:
            return False, ctx
        if len(paths) == 2 and all(len(p) == 1 for p in paths):
            return True, ctx  # both branches fall whole: what follows runs wherever the ``if`` ran
        # What follows runs where a branch that falls ran, and past the branches inside it that leave (``return
        # True``, ``continue``): guarded by the test alone, it ran where those had left, a check too many.
        either = [p[0] if len(p) == 1 else ast.BoolOp(op=ast.And(), values=p) for p in paths]
        return True, ctx.plus("guard", guard(either[0] if len(either) == 1 else
                                             ast.BoolOp(op=ast.Or(), values=either), True))

    def _for(self, st: ast.For, ctx: Context, out: list) -> bool:
        if self._element_piece(loop_verdict(st, ctx, self.layout, self.scopes), ctx, st, out):
            return True
        if st.orelse or not (only_checks(st.body)
                             or (only_checks(st.body, binds=True) and own_names(st, self.scopes))):
            raise Cannot("a loop that is not a list of checks")
        known = self._set_elements(st.iter, ctx)
        if known is not None:
            self._each_element(st, ctx, out, known)
            return True
        inner = self._each(st.target, st.iter, ctx)
        if inner is None:
            out.append((ctx, [st, ast.Return(value=ast.Constant(value=True))]))
            return True
        self._block(st.body, inner, out, loop=True)
        return True

    def _each(self, target: ast.expr, iterable: ast.expr, ctx: Context) -> Context | None:
        """``ctx`` with ``target`` bound to one element of ``iterable`` per piece, or None (not cut)."""
        param = f"_piece{len(ctx.params)}"
        slots = self._tuple_field(iterable, ctx)
        if slots is not None:
            field, n, numbered = slots
            item = ast.Subscript(value=ast.Attribute(value=ast.Name(id=ctx.state, ctx=ast.Load()), attr=field,
                                                     ctx=ast.Load()),
                                 slice=ast.Name(id=param, ctx=ast.Load()), ctx=ast.Load())
            value = ast.Tuple(elts=[ast.Name(id=param, ctx=ast.Load()), item], ctx=ast.Load()) if numbered else item
            return ctx.plus("bind", ast.Assign(targets=[store(target)], value=value), (param, list(range(n))))
        if ctx.depends_on_state(iterable):
            return None
        values = self._constant(iterable, ctx)
        if values is None:
            return None
        bind = ast.Assign(targets=[store(target)], value=ast.Name(id=param, ctx=ast.Load()))
        return ctx.plus("bind", bind, (param, values))

    def _set_elements(self, node: ast.expr, ctx: Context) -> list | None:
        """The elements numbered so far of the set field ``node`` (``s.f``), or None (not one, or too many)."""
        field = state_field(node, ctx, self.layout) if self.per_element else None
        if field is None or field.kind != SET or not 0 < len(field.interner) <= MAX_VALUES:
            return None
        return list(field.interner.values)

    def _each_element(self, st: ast.For, ctx: Context, out: list, known: list) -> None:
        """``for x in s.f`` (a set field) as one piece per element numbered so far, applying where the set holds
        it, and one piece for the elements numbered later: the loop, skipping the known ones.

        Why: the loop reads every element's check, so as one piece its key is nearly the whole state and it
        misses on every state (KeyValueStore's ``for t in s.tx``); per element, each key holds one bit of the set
        and what that element's checks read.  The elements are numbered as the search meets them, so the
        pieces are cut from those numbered when the search (re)starts, and the last piece keeps the
        conjunction exact for the others."""
        bound, held, later, each, unknown = self._elements(st.target, st.iter, ctx, known)
        self._block(st.body, bound.plus("guard", guard(held, True)), out, loop=True)
        skip = ast.If(test=negated(unknown), body=[ast.Continue()], orelse=[])
        bind = ast.Assign(targets=[store(st.target)], value=ast.Name(id=each, ctx=ast.Load()))
        loop = ast.For(target=ast.Name(id=each, ctx=ast.Store()), iter=copy.deepcopy(st.iter),
                       body=[skip, bind] + copy.deepcopy(st.body), orelse=[])
        out.append((later, [loop, ast.Return(value=ast.Constant(value=True))]))

    def _quantified_elements(self, gen: ast.comprehension, check: ast.expr, ctx: Context, out: list,
                             known: list) -> None:
        """``all(E for x in s.f if C)`` over a set field, cut as ``_each_element`` cuts a loop."""
        bound, held, later, each, unknown = self._elements(gen.target, gen.iter, ctx, known)
        inner = bound.plus("guard", guard(held, True))
        for cond in gen.ifs:
            inner = inner.plus("guard", guard(cond, True))
        self._expression(check, inner, out)
        out.append((later, [ast.Return(value=ast.Call(func=ast.Name(id="all", ctx=ast.Load()),
                                                      args=[self._rest(gen, check, each, unknown)], keywords=[]))]))

    def _some_elements(self, gen: ast.comprehension, check: ast.expr, ctx: Context, out: list,
                       known: list) -> None:
        """``any(E for x in s.f if C)`` among alternatives over a set field: ``x in s.f and C and E`` per element
        numbered so far, and ``any(...)`` over the rest (as ``_each_element``, alternatives of one clause)."""
        bound, held, later, each, unknown = self._elements(gen.target, gen.iter, ctx, known)
        out.append((bound, [ast.Return(value=ast.BoolOp(op=ast.And(), values=[held, *copy.deepcopy(gen.ifs),
                                                                               copy.deepcopy(check)]))]))
        out.append((later, [ast.Return(value=ast.Call(func=ast.Name(id="any", ctx=ast.Load()),
                                                      args=[self._rest(gen, check, each, unknown)], keywords=[]))]))

    @staticmethod
    def _rest(gen: ast.comprehension, check: ast.expr, each: str, unknown: ast.expr) -> ast.GeneratorExp:
        """``E for x in s.f if C``, over the elements not numbered when the search started."""
        return ast.GeneratorExp(elt=copy.deepcopy(check), generators=[
            ast.comprehension(target=ast.Name(id=each, ctx=ast.Store()), iter=copy.deepcopy(gen.iter),
                              ifs=[unknown], is_async=0),
            ast.comprehension(target=store(gen.target), iter=ast.Tuple(elts=[ast.Name(id=each, ctx=ast.Load())],
                                                                        ctx=ast.Load()),
                              ifs=copy.deepcopy(gen.ifs), is_async=0)])

    @staticmethod
    def _elements(target: ast.expr, field: ast.expr, ctx: Context, known: list) -> tuple:
        """What a set field's pieces are cut from: the context binding ``target`` to each known element and the
        test that the set holds it; and for the rest, its context, the name an element is read into and the
        test that it is not a known one."""
        n = len(ctx.params)
        element, rest = f"_piece{n}", f"_piece{n + 1}"
        bound = ctx.plus("bind", ast.Assign(targets=[store(target)], value=ast.Name(id=element, ctx=ast.Load())),
                         (element, known))
        held = ast.Compare(left=ast.Name(id=element, ctx=ast.Load()), ops=[ast.In()],
                           comparators=[copy.deepcopy(field)])
        each, skip = f"_element{n}", f"_known{n}"
        later = ctx.plus("bind", ast.Assign(targets=[ast.Name(id=skip, ctx=ast.Store())],
                                            value=ast.Name(id=rest, ctx=ast.Load())), (rest, [frozenset(known)]))
        unknown = ast.Compare(left=ast.Name(id=each, ctx=ast.Load()), ops=[ast.NotIn()],
                              comparators=[ast.Name(id=skip, ctx=ast.Load())])
        return bound, held, later, each, unknown

    def _tuple_field(self, node: ast.expr, ctx: Context):
        """``(field, length, enumerated)`` when ``node`` is ``s.f`` or ``enumerate(s.f)`` of a tuple field."""
        numbered = False
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "enumerate"
                and len(node.args) == 1 and not node.keywords and "enumerate" not in self.globals):
            node, numbered = node.args[0], True
        field = state_field(node, ctx, self.layout)
        if field is None or field.kind not in ("tuple", "grid", "records") or getattr(field, "single", False):
            return None
        return field.name, field.rows, numbered

    def _constant(self, node: ast.expr, ctx: Context) -> list | None:
        """The values of an iterable that does not depend on the state, computed now (None: it cannot be)."""
        scope = {"self": self.spec}
        try:
            for kind, stmt in ctx.entries:
                if kind == "assign" and names(node) & targets(stmt) and not ctx.depends_on_state(stmt.value):
                    exec(compile(ast.fix_missing_locations(ast.Module(body=[copy.deepcopy(stmt)], type_ignores=[])),
                                 "<piece>", "exec"), dict(self.globals), scope)
            values = list(eval(compile(ast.fix_missing_locations(ast.Expression(body=copy.deepcopy(node))),
                                       "<piece>", "eval"), dict(self.globals), scope))
        except Exception:
            return None
        return values if len(values) <= MAX_VALUES else None

    # -- expressions that must hold -------------------------------------------------------------------
