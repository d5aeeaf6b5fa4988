"""Logs of running implementations: one JSON-lines event stream per node, partially ordered.

An implementation's log is what trace validation (``checkers/validation``) checks
against a model: each node's own order, and a receive's ``link`` to the send it
got, are the only orderings it assumes.  ``event`` holds the records, ``read``
the defensive parser of files users hand us, ``write`` the writer.
"""
