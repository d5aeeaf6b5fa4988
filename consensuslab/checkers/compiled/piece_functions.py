"""An invariant's pieces as functions: the real one, its tracing twin, and a per-element verdict where it has one.

``splitting.py`` cuts the source; here each piece is compiled twice, as it is
(the model's own answer, which confirms every trace) and with filtered
iteration (``filtering.py``) for the views the memo traces, and a piece judged
per element of a set field (``elementwise.py``) also gets its verdict function.
"""

from __future__ import annotations

import copy
import types
from typing import Any

from consensuslab.checkers.compiled.filtering import compiled_function, rewrite_tree
from consensuslab.checkers.compiled.splitting import Splitter


def invariant_pieces(prop, spec: Any, twin: Any, layout, alternatives: bool = True) -> list[tuple]:
    """``(name, function, its tracing twin, arguments, clause, element)`` per piece of the invariant ``prop``
    (itself when not cut); ``clause`` is None, or tells alternatives apart (``Piece``), numbered per invariant;
    ``element`` is None, or ``(set field, verdict of one element)`` (``elementwise.py``).

    The tracing twin is the piece recompiled with filtered iteration
    (``filtering.py``) and bound to the spec's tracing twin ``twin``.
    """
    fn = prop.fn
    found = Splitter(spec, layout, alternatives).pieces(fn)
    target = getattr(fn, "__func__", fn)
    if found is None:
        return [(prop.name, fn, twin.method(fn), (), None, None)]
    out = []
    for k, piece in enumerate(found):
        real = compiled_function(copy.deepcopy(piece.tree), target, target.__globals__)
        real.__defaults__ = None
        traced = real
        if twin.twin is not None:
            tree = copy.deepcopy(piece.tree)
            rewrite_tree(tree)
            traced = compiled_function(tree, target, twin.namespace(target))  # the module's helpers traced too
            traced.__defaults__ = None
        bound = types.MethodType(real, spec)
        view = types.MethodType(traced, twin.twin) if twin.twin is not None else bound
        element = None
        if piece.element is not None:
            field, tree = piece.element
            verdict = compiled_function(copy.deepcopy(tree), target, target.__globals__)
            verdict.__defaults__ = None
            element = (field, types.MethodType(verdict, spec))
        for args in piece.arguments():
            clause = None if piece.clause is None else (piece.clause[0], args[:piece.clause[1]])
            out.append((f"{prop.name}[{k + 1}]" + (f"{list(args)}" if args else ""), bound, view, args, clause,
                        element))
    return out
