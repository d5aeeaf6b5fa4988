"""Whether the compiled search can take a model, answered without loading it (numpy and the engine load only
once a search needs them: a check that ends in ``auto``'s interpreted probe never pays for them)."""

from __future__ import annotations

from consensuslab.models.model import Model


def unsupported_reason(model: Model, search: str, insist: bool = False, spills: bool = False) -> str | None:
    """Why this model/search cannot use the compiled search (None: it can); ``insist``: ``--engine compiled``;
    ``spills``: levels may spill to disk."""
    from consensuslab.models.spec import SpecModel

    if search != "bfs":
        return "the compiled search is breadth-first"
    if type(model) is not SpecModel:  # a subclass may add successors the action table does not list
        return "only TLA+-style specs (consensuslab.models.spec.Spec) whose steps are their action table are compiled"
    if spills and not insist:
        # the per-state search meets a state's successors in the order of its memo groups, not the model's, so
        # its counterexample (and counts at it) can differ: auto's answer must not depend on the engine
        return "a search whose levels may spill is interpreted unless --engine compiled"
    if type(model).view is not Model.view:
        return "a spec with a view is checked by the interpreted search"
    return None
