"""Filtered iteration over a set field reads only the elements that pass the filter: traced copies of spec code.

TLA+-style specs filter their message sets everywhere (``{m \\in msgs : m.type
= "1b" /\\ m.bal = b}``).  Iterating a set on a view must record a read of the
whole field (which elements are present decides what the loop sees), so an
action that filters the 1b messages of one ballot would be memoised on every
message, and miss on nearly every state.  But the answer of

    [m for m in s.msgs if type(m) is Msg1b and m.bal == b]
    any(type(m) is Msg2a and m.bal == b for m in s.msgs)
    all(self.is_message(m) for m in s.msgs)
    for m in s.msgs:
        if type(m) is Msg2b: ...

depends only on the present elements that pass the filter.  So the spec's
methods are recompiled, for tracing only, with each such filter handed to the
set view (``SetView.passing``): it evaluates the filter on every element of
the field's universe, reads the bits of those that pass, and yields the
present ones; a new element numbered later is covered by reading the field's
unused bits too.  The recompiled code runs on views only; every answer it
gives is still confirmed by the original code on the real state.

What is rewritten, and only where it provably means the same:

* a comprehension's ``for x in S if C ...`` (the filter is the ``if``s);
* ``any(E for x in S if C)`` and ``all(E for x in S if C)`` of the built-ins;
* ``for x in S:`` whose body is one ``if``/``elif`` chain without ``else``, or
  starts with ``if C: continue``, when no name of the filter but ``x`` and
  ``self`` is used in the loop body (so the filter cannot see the loop's work).

Functions with closures (``super()``, nested functions) are left as they are.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
import types
from typing import Any, Callable

HOOKS = "__consensuslab_passing", "__consensuslab_any", "__consensuslab_all"


# -- the run-time side: what the rewritten code calls ---------------------------------------------------
def passing(items, keep: Callable):
    """``items`` when it is no set view; else its present elements that ``keep`` accepts (reading only theirs)."""
    method = getattr(type(items), "passing", None)
    if method is None:
        return items
    return method(items, keep)


def any_of(fn, items, keep: Callable, value: Callable) -> bool:
    if fn is not builtins.any or getattr(type(items), "passing", None) is None:
        return fn(value(x) for x in items if keep(x))
    for _ in items.passing(lambda x: keep(x) and value(x)):
        return True
    return False


def all_of(fn, items, keep: Callable, value: Callable) -> bool:
    if fn is not builtins.all or getattr(type(items), "passing", None) is None:
        return fn(value(x) for x in items if keep(x))
    for _ in items.passing(lambda x: keep(x) and not value(x)):
        return False
    return True


RUNTIME = dict(zip(HOOKS, (passing, any_of, all_of)))


# -- the compile-time side: the AST rewrite ---------------------------------------------------------------
def _params(target: ast.expr) -> ast.arguments | None:
    """Lambda parameters binding ``target`` (a name, or a flat tuple of names), or None."""
    if isinstance(target, ast.Name):
        names = [target.id]
    elif isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        return None  # a tuple target needs unpacking: left as it is
    else:
        return None
    return ast.arguments(posonlyargs=[], args=[ast.arg(arg=n) for n in names], vararg=None, kwonlyargs=[],
                         kw_defaults=[], kwarg=None, defaults=[])


def _lambda(target: ast.expr, body: ast.expr) -> ast.Lambda | None:
    params = _params(target)
    return None if params is None else ast.Lambda(args=params, body=body)


def _hook(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _conjunction(tests: list[ast.expr]) -> ast.expr:
    return tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.And(), values=list(tests))


def _pure(expr: ast.expr) -> bool:
    """No walrus, yield or await: a filter that can be evaluated apart from its loop."""
    return not any(isinstance(n, (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await)) for n in ast.walk(expr))


def _names(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class Rewrite(ast.NodeTransformer):
    """The rewrite described in the module docstring."""

    changed = False

    def visit_comprehension(self, node: ast.comprehension):
        self.generic_visit(node)
        if node.ifs and not node.is_async and all(_pure(c) for c in node.ifs):
            keep = _lambda(node.target, _conjunction(node.ifs))
            if keep is not None:
                node.iter = _hook(HOOKS[0], node.iter, keep)
                self.changed = True
        return node

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        if (isinstance(node.func, ast.Name) and node.func.id in ("any", "all") and len(node.args) == 1
                and not node.keywords and isinstance(node.args[0], ast.GeneratorExp)
                and len(node.args[0].generators) == 1):
            gen = node.args[0].generators[0]
            ifs = gen.ifs
            iterable = gen.iter
            if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == HOOKS[0]:
                iterable = iterable.args[0]  # the comprehension rule above already wrapped it
            if gen.is_async or not all(_pure(c) for c in ifs) or not _pure(node.args[0].elt):
                return node
            keep = _lambda(gen.target, _conjunction(ifs) if ifs else ast.Constant(value=True))
            value = _lambda(gen.target, node.args[0].elt)
            if keep is None or value is None:
                return node
            self.changed = True
            return _hook(HOOKS[1] if node.func.id == "any" else HOOKS[2], node.func, iterable, keep, value)
        return node

    def visit_For(self, node: ast.For):
        self.generic_visit(node)
        if node.orelse or not node.body or not isinstance(node.body[0], ast.If):
            return node
        first = node.body[0]
        if (len(first.body) == 1 and isinstance(first.body[0], ast.Continue) and not first.orelse):
            test = ast.UnaryOp(op=ast.Not(), operand=first.test)
        elif len(node.body) == 1:
            tests, chain = [first.test], first
            while chain.orelse:
                if len(chain.orelse) != 1 or not isinstance(chain.orelse[0], ast.If):
                    return node  # a final else runs for every element
                chain = chain.orelse[0]
                tests.append(chain.test)
            test = tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.Or(), values=tests)
        else:
            return node
        if not _pure(test):
            return node
        targets = _names(node.target)
        free = _names(test) - targets - {"self"}
        used = set().union(*(_names(stmt) for stmt in node.body[1:] if stmt is not first)) if len(node.body) > 1 \
            else set()
        used |= set().union(*(_names(stmt) for stmt in first.body)) | _names_in_orelse(first)
        if free & used:
            return node
        keep = _lambda(node.target, test)
        if keep is None:
            return node
        node.iter = _hook(HOOKS[0], node.iter, keep)
        self.changed = True
        return node


def _names_in_orelse(node: ast.If) -> set[str]:
    out: set[str] = set()
    for stmt in node.orelse:
        out |= _names(stmt)
    return out


# -- whole functions and spec objects ---------------------------------------------------------------------
def rewritten_function(fn: Callable, namespace: dict | None = None, force: bool = False) -> Callable | None:
    """A copy of plain function ``fn`` with filtered iteration, or None where nothing changed (unless ``force``: it
    calls a rewritten helper of ``namespace``) or it cannot be."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_freevars:
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], (ast.FunctionDef,)):
        return None
    if any(isinstance(node, (ast.Global, ast.Nonlocal)) for node in ast.walk(tree)):
        return None  # the twin's globals are a copy: what it assigned would not reach the module
    tree.body[0].decorator_list = []
    rewrite = Rewrite()
    tree = rewrite.visit(tree)
    if not rewrite.changed and not force:
        return None
    return compiled_function(tree, fn, namespace)


def compiled_function(tree: ast.Module, like: Callable, namespace: dict | None = None) -> Callable:
    """Compile the one function of ``tree`` as a twin of ``like`` (same globals plus the hooks, defaults, name)."""
    code = like.__code__
    ast.fix_missing_locations(tree)
    ast.increment_lineno(tree, code.co_firstlineno - 1)
    compiled = compile(tree, inspect.getsourcefile(like) or "<traced>", "exec")
    body = next(c for c in compiled.co_consts if isinstance(c, types.CodeType))
    g = namespace if namespace is not None else {**like.__globals__, **RUNTIME}
    out = types.FunctionType(body, g, tree.body[0].name, like.__defaults__)
    out.__kwdefaults__ = like.__kwdefaults__
    return out


def rewrite_tree(tree: ast.Module) -> bool:
    """Rewrite ``tree`` in place; whether anything changed."""
    rewrite = Rewrite()
    rewrite.visit(tree)
    return rewrite.changed


def helper_twins(module_globals: dict, module: str) -> tuple[dict, set]:
    """``(namespace, names)``: the globals of ``module`` with the hooks, in which its own plain functions that
    iterate a set through a filter, or call one that does, are their twins with filtered iteration; and the
    names so replaced.

    Why: a spec's helper written beside the class (``def votes_in(s, b, q): return [m for m in s.msgs if
    ...]``) is called by the methods' twins through their globals, and as the original it read every message."""
    namespace = {**module_globals, **RUNTIME}
    own = {name: fn for name, fn in module_globals.items()
           if isinstance(fn, types.FunctionType) and fn.__module__ == module and not fn.__code__.co_freevars}
    twins: set[str] = set()
    changed = True
    while changed:  # a helper that calls a rewritten one is recompiled too, until none is left
        changed = False
        for name, fn in own.items():
            if name in twins:
                continue
            twin = rewritten_function(fn, namespace, force=bool(twins & _names_used(fn.__code__)))
            if twin is not None:
                namespace[name] = twin
                twins.add(name)
                changed = True
    return namespace, twins


def _names_used(code: types.CodeType) -> set[str]:
    """The global names ``code`` (and the functions and comprehensions inside it) may look up."""
    out = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out |= _names_used(const)
    return out


class TracedSpec:
    """The spec object's twin for tracing: the same attributes, its own methods with filtered iteration.

    Methods defined in the framework (``consensuslab.models``) are kept; a
    method that cannot be rewritten is the original.
    """

    def __init__(self, spec: Any):
        cls = type(spec)
        methods: dict[str, Any] = {}
        helpers: dict[str, dict] = {}  # per module: its namespace with its own functions' twins (``helper_twins``)
        for klass in reversed(cls.__mro__):
            if klass.__module__.startswith("consensuslab.models") or klass is object:
                continue
            for name, member in vars(klass).items():
                # a helper may be a static or class method (``self.of(s, P1b, b, q)``): its function is rewritten
                wrap = type(member) if isinstance(member, (staticmethod, classmethod)) else None
                fn = member.__func__ if wrap is not None else member
                if isinstance(fn, types.FunctionType):
                    module = fn.__module__
                    if module not in helpers:
                        helpers[module] = helper_twins(fn.__globals__, module)
                    namespace, twins = helpers[module]
                    twin = rewritten_function(fn, namespace, force=bool(twins & _names_used(fn.__code__)))
                    if twin is not None:
                        methods[name] = twin if wrap is None else wrap(twin)
                    else:
                        methods.pop(name, None)
        self._namespaces = helpers
        self.twin = None
        if methods:
            shadow = type(cls.__name__, (cls,), methods)
            try:
                obj = object.__new__(shadow)
                obj.__dict__ = spec.__dict__  # the same attributes, read and written alike
            except (TypeError, AttributeError):
                return
            self.twin = obj

    def namespace(self, fn: Callable) -> dict:
        """The globals a traced copy of ``fn`` (an invariant's piece) runs in: its module's, with the hooks and
        the module's own helpers as their twins (``helper_twins``)."""
        module = getattr(fn, "__module__", None)
        if module not in self._namespaces:
            self._namespaces[module] = helper_twins(fn.__globals__, module)
        return self._namespaces[module][0]

    def method(self, bound: Callable) -> Callable:
        """The twin's version of a bound method of the spec (the method itself when there is no twin)."""
        if self.twin is None or getattr(bound, "__self__", None) is None:
            return bound
        name = getattr(bound, "__name__", None)
        twin = getattr(self.twin, name, None) if name else None
        return twin if twin is not None else bound
