"""The cyclic garbage collector, turned back on after a search without a pause.

Searches turn the collector off (states are acyclic values: it would find
nothing, yet its full passes walk every stored state).  Objects made while
it is off all sit in its youngest generation, so simply turning it back on
makes the first allocation after the search walk them all: half a second for
two million tuples, seconds for a big search, spent while the result is
built (a time-limited run then overran its limit by as much).  Freezing them
first and unfreezing them into the oldest generation skips that walk; they
are still freed by reference counting, and reached by a later full collection.
"""

from __future__ import annotations

import gc


def resume_collection() -> None:
    """Turn the collector back on, the search's objects moved to its oldest generation first."""
    gc.freeze()
    gc.enable()
    gc.unfreeze()
