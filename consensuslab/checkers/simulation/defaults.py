"""The defaults of ``consensuslab simulate``, apart from the Hypothesis machinery so the CLI starts fast."""

DEFAULT_WALKS = 50_000  # random walks first ...
DEFAULT_WALK_STATES = 200_000  # ... which stop early once they have reached this many distinct states
DEFAULT_EXAMPLES = 200  # then Hypothesis examples
DEFAULT_STEPS = 100  # actions per behaviour at most, in both phases
