"""One module per command-line verb.

Each module defines ``register(subparsers)``, which adds its parser and sets
``handler=run`` as a default; ``run(args) -> int`` returns the exit code.
Errors meant for the user are raised as ``UsageError`` and printed by ``cli.main``
as one line with exit code 2.
"""
