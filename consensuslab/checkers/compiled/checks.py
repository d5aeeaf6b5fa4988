"""The checks an invariant requires, cut into pieces: conjunctions, quantifiers, alternatives, inlined methods.

The expression side of ``splitting.py`` (which cuts statements): a check that
must hold is cut where it is a conjunction (``a and b``, ``not (a or b)``,
``all(E for x in X)``, ``not any(...)``, a method of the spec whose truth is
required), and a disjunction (``a or any(E for x in X)``) becomes one clause of
alternatives, a piece each, of which one must hold.  Also the syntax helpers
both sides use.
"""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap


class Cannot(Exception):
    """This statement or expression is not cut; the caller keeps it whole."""


class Context:
    """What a piece runs before its check: assignments (kept where used), guards and loop bindings, in order."""

    def __init__(self, state: str, entries: tuple = (), params: tuple = (), states: frozenset = frozenset()):
        self.state, self.entries, self.params, self.states = state, entries, params, states

    def plus(self, kind: str, stmt: ast.stmt, param: tuple | None = None) -> "Context":
        return Context(self.state, self.entries + ((kind, stmt),),
                       self.params + ((param,) if param is not None else ()), self.states)

    def depends_on_state(self, node: ast.AST) -> bool:
        """Does ``node`` read the state (directly, or through an assignment made from it)?"""
        used = names(node)
        if used & ({self.state} | self.states):
            return True
        for kind, stmt in self.entries:
            if kind != "guard" and used & targets(stmt) and self.depends_on_state(stmt.value):
                return True
        return False


def names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def targets(stmt: ast.stmt) -> set[str]:
    out: set[str] = set()
    for t in getattr(stmt, "targets", []):
        out |= names(t)
    return out


def const(node: ast.AST):
    return node.value if isinstance(node, ast.Constant) else None


def is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and not node.value


def is_true(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and bool(node.value)


def negated(expr: ast.expr) -> ast.expr:
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        return expr.operand
    return ast.UnaryOp(op=ast.Not(), operand=expr)


def guard(test: ast.expr, holds: bool) -> ast.stmt:
    """``if not test: return True`` (the piece applies where ``test`` holds), or the opposite."""
    return ast.If(test=negated(test) if holds else test, body=[ast.Return(value=ast.Constant(value=True))], orelse=[])


class Renamed(ast.NodeTransformer):
    """A method's local names renamed, its ``self`` parameter (``own_self``, if given) called ``self``."""

    def __init__(self, renamed: dict, own_self: str | None = None):
        self.renamed, self.own_self = renamed, own_self

    def visit_Name(self, node: ast.Name):
        if node.id == self.own_self:
            return ast.copy_location(ast.Name(id="self", ctx=node.ctx), node)
        if node.id in self.renamed:
            return ast.copy_location(ast.Name(id=self.renamed[node.id], ctx=node.ctx), node)
        return node

    def visit_arg(self, node: ast.arg):
        if node.arg in self.renamed:
            node.arg = self.renamed[node.arg]
        return node


def only_checks(stmts: list, binds: bool = False) -> bool:
    """Statements that can only return False, continue, or fall through: a loop body that is a list of checks.

    ``binds``: assignments to plain names count too, and a nested loop does not (``elementwise.py`` reads
    every ``continue`` as this loop's); nothing that yields, awaits or declares a scope either."""
    for st in stmts:
        if isinstance(st, (ast.Pass, ast.Continue)) or (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant)):
            continue
        if isinstance(st, ast.Return) and (st.value is None or is_false(st.value)):
            continue
        if isinstance(st, ast.If) and only_checks(st.body, binds) and only_checks(st.orelse, binds):
            continue
        if not binds and isinstance(st, ast.For) and not st.orelse and only_checks(st.body):
            continue
        if binds and isinstance(st, ast.Assign) and all(plain_target(t) for t in st.targets):
            continue
        return False
    refused = BINDING_REFUSED if binds else (ast.NamedExpr, ast.Break)
    return not any(isinstance(n, refused) for st in stmts for n in ast.walk(st))


#: what a check body that assigns names may not hold
BINDING_REFUSED = (ast.NamedExpr, ast.Break, ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal,
                   ast.Lambda)


def plain_target(target: ast.expr) -> bool:
    """A name, or a flat tuple of names."""
    return isinstance(target, ast.Name) or (isinstance(target, ast.Tuple)
                                            and all(isinstance(e, ast.Name) for e in target.elts))


def state_field(node: ast.expr, ctx: Context, layout):
    """The packed field ``node`` reads when it is ``s.f`` of the state (or a state an inlined method names), or
    None."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in {ctx.state} | ctx.states):
        return None
    return layout.by_name.get(node.attr)


def store(target: ast.expr) -> ast.expr:
    target = copy.deepcopy(target)
    for node in ast.walk(target):
        if isinstance(node, (ast.Name, ast.Tuple, ast.List)):
            node.ctx = ast.Store()
    return target


class Checks:
    """The expression methods of ``splitting.Splitter`` (a mixin: it uses the splitter's ``_each``)."""

    def _expression(self, expr: ast.expr, ctx: Context, out: list) -> None:
        """Cut the check ``expr`` (it must be truthy) into ``out``."""
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.And):
            for value in expr.values:
                self._expression(value, ctx, out)
            return
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            inner = expr.operand
            if isinstance(inner, ast.BoolOp) and isinstance(inner.op, ast.Or):
                for value in inner.values:
                    self._expression(negated(value), ctx, out)
                return
            if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.Not):
                return self._expression(inner.operand, ctx, out)
            if self._quantified(inner, "any", ctx, out, flip=True):
                return
        elif self._quantified(expr, "all", ctx, out, flip=False) or self._inlined(expr, ctx, out):
            return
        if self.alternatives and self._disjunction(expr, ctx, out):
            return
        out.append((ctx, [ast.Return(value=expr)]))

    def _disjunction(self, expr: ast.expr, ctx: Context, out: list) -> bool:
        """``a or any(E for x in X)``: one clause of alternatives, a piece per element (at least two pieces)."""
        found: list = []
        self._alternatives(expr, ctx, found)
        if len(found) < 2:
            return False
        clause = (self.clauses, len(ctx.params))  # the loops around the clause make one clause per element
        self.clauses += 1
        out += [(c, stmts, clause) for c, stmts in found]
        return True

    def _alternatives(self, expr: ast.expr, ctx: Context, out: list) -> None:
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
            for value in expr.values:
                self._alternatives(value, ctx, out)
            return
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            inner = expr.operand
            if isinstance(inner, ast.BoolOp) and isinstance(inner.op, ast.And):
                for value in inner.values:
                    self._alternatives(negated(value), ctx, out)
                return
            if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.Not):
                return self._alternatives(inner.operand, ctx, out)
            if self._some(inner, "all", ctx, out, flip=True):
                return
        elif self._some(expr, "any", ctx, out, flip=False):
            return
        out.append((ctx, [ast.Return(value=expr)]))

    def _some(self, expr: ast.expr, name: str, ctx: Context, out: list, flip: bool) -> bool:
        """``any(E for x in X if C)`` (or ``not all(...)``) among alternatives: ``C and E`` per element."""
        gen, elt = self._generator(expr, name)
        if gen is None:
            return False
        known = self._set_elements(gen.iter, ctx)
        if known is not None:  # a set field: per element numbered so far, and one for the rest
            self._some_elements(gen, negated(elt) if flip else elt, ctx, out, known)
            return True
        inner = self._each(gen.target, gen.iter, ctx)
        if inner is None:
            return False
        elt = negated(elt) if flip else elt
        test = ast.BoolOp(op=ast.And(), values=[*gen.ifs, elt]) if gen.ifs else elt
        if gen.ifs:
            out.append((inner, [ast.Return(value=test)]))
        else:
            self._alternatives(test, inner, out)
        return True

    def _generator(self, expr: ast.expr, name: str):
        """``(first generator, what each of its elements must give)`` of ``name(E for x in X if C ...)`` (a
        built-in ``any`` or ``all``): ``E``, or ``name(E for ...)`` over the other generators; else (None, None)."""
        if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == name
                and name not in self.globals and len(expr.args) == 1 and not expr.keywords
                and isinstance(expr.args[0], ast.GeneratorExp)):
            return None, None
        gens = expr.args[0].generators
        if any(g.is_async for g in gens):
            return None, None
        elt = expr.args[0].elt
        if len(gens) > 1:
            elt = ast.Call(func=ast.Name(id=name, ctx=ast.Load()),
                           args=[ast.GeneratorExp(elt=elt, generators=gens[1:])], keywords=[])
        return gens[0], elt

    def _quantified(self, expr: ast.expr, name: str, ctx: Context, out: list, flip: bool) -> bool:
        """``all(E for x in X if C)`` (or ``not any(...)``): one check per element of ``X``."""
        gen, elt = self._generator(expr, name)
        if gen is None:
            return False
        check = negated(elt) if flip else elt
        if self._element_piece(self._element_quantifier(gen, check, ctx), ctx,
                               ast.Return(value=negated(expr) if flip else expr), out):
            return True
        known = self._set_elements(gen.iter, ctx)
        if known is not None:  # a set field: per element numbered so far, and one for the rest
            self._quantified_elements(gen, check, ctx, out, known)
            return True
        inner = self._each(gen.target, gen.iter, ctx)
        if inner is None:
            return False
        for cond in gen.ifs:
            inner = inner.plus("guard", guard(cond, True))
        self._expression(negated(elt) if flip else elt, inner, out)
        return True

    def _inlined(self, expr: ast.expr, ctx: Context, out: list) -> bool:
        """``self.M(s, ...)`` whose truth is required: ``M``'s own pieces, its names kept apart from ours."""
        if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
                and isinstance(expr.func.value, ast.Name) and expr.func.value.id == "self" and not expr.keywords
                and self.inlined < 16):
            return False
        method = getattr(type(self.spec), expr.func.attr, None)
        code = getattr(method, "__code__", None)
        if code is None or code.co_freevars or code.co_flags & 0x0C or code.co_argcount != len(expr.args) + 1 \
                or getattr(method, "__globals__", None) is not self.globals:
            return False
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
        except (OSError, TypeError, SyntaxError):
            return False
        fdef = tree.body[0] if len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef) else None
        if fdef is None or fdef.decorator_list and any(not isinstance(d, ast.Name) for d in fdef.decorator_list):
            return False
        self.inlined += 1
        prefix = f"_in{self.inlined}_"
        params = [a.arg for a in fdef.args.args]
        local = set(params[1:])
        for node in ast.walk(fdef):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                local.add(node.id)
            elif isinstance(node, ast.arg):
                local.add(node.arg)
        local.discard(params[0])
        renamed = {n: prefix + n for n in local}
        states = set(ctx.states)
        inner = ctx
        for param, arg in zip(params[1:], expr.args):
            if isinstance(arg, ast.Name) and (arg.id == ctx.state or arg.id in states):
                renamed[param] = arg.id  # the state itself: its loops and fields stay recognisable
                continue
            inner = inner.plus("assign", ast.Assign(targets=[ast.Name(id=renamed[param], ctx=ast.Store())],
                                                    value=arg))
        body = Renamed(renamed, params[0]).visit(ast.Module(body=fdef.body, type_ignores=[])).body
        if body and isinstance(body[0], ast.Expr) and isinstance(const(body[0].value), str):
            body = body[1:]
        inner = Context(inner.state, inner.entries, inner.params, frozenset(states))
        self.scopes.append(ast.Module(body=body, type_ignores=[]))
        mark = len(out)
        try:
            self._block(body, inner, out, top=True)
        except Cannot:
            del out[mark:]
            return False
        return True



def loaded(node: ast.AST) -> set[str]:
    """Names ``node`` reads, less those its comprehensions bind."""
    inner: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.comprehension):
            inner |= names(n.target)
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - inner


def used_outside(assigned: set[str], loop: ast.For, scopes: list) -> bool:
    """Is a name the loop assigns read or written anywhere else in the function (its value outlives the loop)?"""
    inside = {id(n) for n in ast.walk(loop)}
    return any(isinstance(n, ast.Name) and n.id in assigned and id(n) not in inside
               for tree in scopes for n in ast.walk(tree))


def own_names(loop: ast.For, scopes: list) -> bool:
    """Whether the names ``loop``'s body assigns (``k = i - 1``, ``pc_i = s.pc[k]``) are its own: each read after
    its assignment in the same pass and on the same path, nowhere else in the code being cut (``scopes``: the
    function and the methods inlined into it), and none the loop's own target.  Then a piece per element and
    check may run the assignments before its check, as the loop did; a name carried from one pass to the next,
    or read after the loop, would take another value there."""
    assigned: set[str] = set()
    for st in ast.walk(ast.Module(body=loop.body, type_ignores=[])):
        if isinstance(st, ast.Assign):
            assigned |= targets(st)
    if not assigned:
        return True
    if assigned & names(loop.target) or used_outside(assigned, loop, scopes):
        return False
    return _ordered(loop.body, assigned, frozenset())


def _ordered(stmts: list, assigned: set[str], done: frozenset) -> bool:
    """Whether each of the ``assigned`` names ``stmts`` read was assigned before on the same path (``done``): never
    a value from the loop's pass before, nor one a branch already left behind assigned."""
    for st in stmts:
        if isinstance(st, ast.If):
            if loaded(st.test) & (assigned - done) or not (_ordered(st.body, assigned, done)
                                                         and _ordered(st.orelse, assigned, done)):
                return False
            continue  # what a branch assigns is its own
        if loaded(st) & (assigned - done):
            return False
        if isinstance(st, ast.Assign):
            done = done | targets(st)
    return True
