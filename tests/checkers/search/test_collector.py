"""Turning the garbage collector back on after a search must not leave the search's objects to its next pass."""

from __future__ import annotations

import gc

from consensuslab.checkers.search.collector import resume_collection


def test_the_objects_a_search_made_are_not_left_in_the_youngest_generation():
    was = gc.isenabled()
    gc.disable()
    try:
        made = [[k] for k in range(10_000)]  # containers: tracked by the collector
        resume_collection()
        assert gc.isenabled() and gc.get_freeze_count() == 0
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        # in the oldest generation, which the next passes skip; plain gc.enable() leaves them young, to be walked
        assert all(id(x) in oldest for x in made)
    finally:
        if not was:
            gc.disable()
