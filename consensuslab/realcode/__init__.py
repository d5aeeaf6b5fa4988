"""Real implementations nobody here wrote, run on loopback and checked: their logs against a model,
their clients' histories for linearizability.  Each lives in its own package and imports its
library lazily (an optional extra), so the rest of consensuslab never needs it.
"""
