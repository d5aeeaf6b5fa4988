"""A state-reading domain over a set field, tested by membership: ``m=lambda self, s: s.msgs``.

Why: TLA+'s ``\\E m \\in msgs : Receive(m)`` is written, as the tutorial
shows, with a domain that reads the state.  The compiled search gives each
argument a row; its guard "``m`` is in the domain here" computed by listing the
domain iterates the whole set, so every row's memo key held every message and
missed on nearly every state (the classic Paxos with ``PaxosAccepted`` written
so: 222 s and 17 GB, against 7.5 s interpreted).  When the domain is the set
field itself, or a comprehension that keeps its elements (``[m for m in
s.msgs if type(m) is P2a]``, also inside ``sorted``, ``list``, ``tuple``, ``set``
or ``frozenset``), then ``x`` is in the domain exactly where ``x in s.msgs``
and the comprehension's conditions hold for ``x``: one element's bit and what
the conditions read.  And every element of the field the search will ever see
is numbered when a state holding it is packed, so the rows can be made for
every numbered element before a level is expanded, with no per-state coverage
check (``domains.py``).

The domain may also call a helper that returns such a form, as a PlusCal
translation's ``with (m \\in Pending(self))`` over a ``define``d operator is
written: ``m=lambda self, s, p: self.pending(s, p)`` where ``pending`` (a
method of the spec, or a function of the spec's module) is one ``return`` of a
comprehension over a set field; the call is read as that expression with the
helper's parameters renamed to the call's arguments (``_inlined``).

Only the forms above are recognised, from the source of the ``@action``
decorator; anything else (a helper of more than one statement, a filter over
another value, a lambda with a closure) keeps the listing.  The test is confirmed against the listing
on the first states (``StateDomains.confirm``), and the audits compare the
rows' steps with the model's successors as for every other row.
"""

from __future__ import annotations

import ast
import builtins
import copy
import inspect
import textwrap
from typing import Callable

from consensuslab.checkers.compiled.checks import Renamed

#: wrappers of a domain that keep its elements as they are (membership means the same inside them)
KEEPING = ("sorted", "list", "tuple", "set", "frozenset")


class Member:
    """One parameter's domain as a membership test: ``test(spec, state, *earlier arguments it needs, x)``."""

    __slots__ = ("field", "test")

    def __init__(self, field: str, test: Callable):
        self.field, self.test = field, test


def member_domain(declared, param: str, domain) -> Member | None:
    """The membership form of ``domain`` (a ``spec_table.Domain`` of action ``declared``), or None."""
    fn = domain.fn
    if fn is None or not domain.reads_state or getattr(fn, "__code__", None) is None or fn.__code__.co_freevars:
        return None
    node = _decorator_lambda(type(declared.spec), declared.name, param, fn)
    if node is None:
        return None
    names = [a.arg for a in node.args.args]
    if (node.args.vararg or node.args.kwarg or node.args.kwonlyargs or node.args.posonlyargs
            or node.args.defaults or len(names) < 2):
        return None
    state = names[1]
    body = _inlined(_unwrapped(node.body, fn.__globals__), names, declared.spec, fn.__globals__)
    found = _over_field(_unwrapped(body, fn.__globals__), state, set(names))
    if found is None:
        return None
    field, target, conditions = found
    if not conditions:
        return Member(field, _within(field))
    body = ast.BoolOp(ast.And(), conditions) if len(conditions) > 1 else conditions[0]
    tree = ast.Expression(ast.Lambda(_arguments(names + [target]), body))
    ast.fix_missing_locations(tree)
    try:
        code = compile(tree, inspect.getsourcefile(fn) or "<domain>", "eval")
    except (SyntaxError, ValueError):
        return None
    return Member(field, _passing(field, eval(code, fn.__globals__)))  # noqa: S307 - the spec's own expression


def _within(field: str) -> Callable:
    def test(spec, state, *arguments):
        return arguments[-1] in getattr(state, field)

    return test


def _passing(field: str, condition: Callable) -> Callable:
    """The test ``x in state.field and condition(x)``, the condition asked first: one that reads no state (``type(m)
    is P2a``) then rules a row out on every state with an empty key, not one keyed on its message's bit.  Where the
    condition raises, the listing raises only if ``x`` is in the set (it asks nothing of other elements)."""
    def test(spec, state, *arguments):
        try:
            ok = condition(spec, state, *arguments)
        except Exception:
            if arguments[-1] in getattr(state, field):
                raise
            return False
        return bool(ok) and arguments[-1] in getattr(state, field)

    return test


def _decorator_lambda(cls, name: str, param: str, fn) -> ast.Lambda | None:
    """The lambda given for ``param`` in the ``@action`` decorating ``cls.name``, if the source shows it."""
    member = next((klass.__dict__[name] for klass in cls.__mro__ if name in klass.__dict__), None)
    if member is None:
        return None
    try:
        lines, first = inspect.getsourcelines(member)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if len(defs) != 1:
        return None
    found = [kw.value for dec in defs[0].decorator_list if isinstance(dec, ast.Call)
             for kw in dec.keywords if kw.arg == param]
    if len(found) != 1 or not isinstance(found[0], ast.Lambda):
        return None
    if first + found[0].lineno - 1 != fn.__code__.co_firstlineno:
        return None  # the decorator's source is not the function that was given
    return found[0]


def _unwrapped(expr: ast.expr, names: dict) -> ast.expr:
    """``expr`` without wrappers that keep its elements (``sorted(...)``, ``tuple(...)``, ...)."""
    while (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in KEEPING
           and len(expr.args) == 1 and not expr.keywords and not isinstance(expr.args[0], ast.Starred)
           and names.get(expr.func.id, getattr(builtins, expr.func.id)) is getattr(builtins, expr.func.id)):
        expr = expr.args[0]
    return expr


def _over_field(expr: ast.expr, state: str, params: set) -> tuple[str, str | None, list] | None:
    """``(field, element name, conditions)`` where ``expr`` is ``state.field`` (no name, no conditions) or keeps
    the elements of ``state.field`` that pass its conditions."""
    if _field_of(expr, state) is not None:
        return _field_of(expr, state), None, []
    if not isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) or len(expr.generators) != 1:
        return None
    gen = expr.generators[0]
    field = _field_of(gen.iter, state)
    if (field is None or gen.is_async or not isinstance(gen.target, ast.Name) or gen.target.id in params
            or not isinstance(expr.elt, ast.Name) or expr.elt.id != gen.target.id):
        return None
    if any(isinstance(n, ast.NamedExpr) for cond in gen.ifs for n in ast.walk(cond)):
        return None  # an assignment inside the condition would leak out of the rewritten test
    return field, gen.target.id, list(gen.ifs)


def _field_of(expr: ast.expr, state: str) -> str | None:
    if (isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == state
            and isinstance(expr.ctx, ast.Load)):
        return expr.attr
    return None


def _arguments(names: list[str]) -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[ast.arg(n) for n in names], vararg=None, kwonlyargs=[],
                         kw_defaults=[], kwarg=None, defaults=[])


def _inlined(expr: ast.expr, names: list[str], spec, namespace: dict) -> ast.expr:
    """``expr``, or where it calls a one-``return`` helper with the lambda's own names (``self.pending(s, p)``),
    the helper's returned expression with its parameters renamed to them.  The helper is a plain method of the
    spec (or static method), or a function of the same module; anything that could change what a name means
    (a decorator, a closure, defaults, a name bound inside the expression or free in it that the lambda also
    has) leaves ``expr`` as it is."""
    if not isinstance(expr, ast.Call) or expr.keywords or not all(isinstance(a, ast.Name) for a in expr.args):
        return expr
    args = [a.id for a in expr.args]
    if not all(a in names for a in args):
        return expr
    helper, bound = _helper(expr.func, names[0], spec, namespace)
    if helper is None or helper.__globals__ is not namespace or helper.__code__.co_freevars:
        return expr
    returned = _returned(helper)
    if returned is None:
        return expr
    params, body = returned
    if len(params) != len(bound) + len(args):
        return expr
    mapping = dict(zip(params, bound + args))
    inner = {n.id for n in ast.walk(body) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    inner |= {a.arg for n in ast.walk(body) if isinstance(n, ast.Lambda) for a in n.args.args}
    free = {n.id for n in ast.walk(body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - inner
    if inner & (set(params) | set(names)) or (free - set(params)) & set(names):
        return expr
    return Renamed(mapping).visit(copy.deepcopy(body))


def _helper(func: ast.expr, self_name: str, spec, namespace: dict):
    """``(function, names bound before the call's arguments)`` that ``func`` calls, or ``(None, [])``."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == self_name:
        if func.attr in getattr(spec, "__dict__", ()):
            return None, []  # an instance attribute shadows the class's
        found = inspect.getattr_static(type(spec), func.attr, None)
        if isinstance(found, staticmethod):
            return found.__func__, []
        return (found, [self_name]) if inspect.isfunction(found) else (None, [])
    if isinstance(func, ast.Name):
        found = namespace.get(func.id)
        return (found, []) if inspect.isfunction(found) else (None, [])
    return None, []


def _returned(helper) -> tuple[list[str], ast.expr] | None:
    """``(parameters, returned expression)`` of a helper whose source is one ``return`` (after a docstring)."""
    try:
        lines, first = inspect.getsourcelines(helper)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    node = tree.body[0]
    a = node.args
    if (node.decorator_list and not _only_staticmethod(node)) or a.vararg or a.kwarg or a.kwonlyargs \
            or a.posonlyargs or a.defaults or node.name != helper.__name__:
        return None
    if first + min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1 != helper.__code__.co_firstlineno:
        return None  # the source read is not the function that runs
    body = node.body[1:] if (node.body and isinstance(node.body[0], ast.Expr)
                             and isinstance(node.body[0].value, ast.Constant)
                             and isinstance(node.body[0].value.value, str)) else node.body
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    return [p.arg for p in a.args], body[0].value


def _only_staticmethod(node: ast.FunctionDef) -> bool:
    return len(node.decorator_list) == 1 and isinstance(node.decorator_list[0], ast.Name) \
        and node.decorator_list[0].id == "staticmethod"

