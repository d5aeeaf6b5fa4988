"""Exploring a model by hand: the session both explorers share, and the browser explorer (``serve``).

A command-line-level component: it may use the loader, checkers and
renderers; only ``commands`` import it.  ``session.Exploration`` holds a walk
through the state space; ``app.create_app`` serves it to a browser (Flask).
"""
