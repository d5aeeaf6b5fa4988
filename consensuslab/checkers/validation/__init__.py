"""Trace validation: does some behaviour of the model explain an implementation's log?

``mapping`` says what each logged event asks of the model (``expect``); ``search``
looks for a behaviour over model states constrained by the log, with bounded
unlogged steps and the fewest faults; ``diagnose`` says where a log cannot be
explained; ``native`` and ``export`` turn the model's own behaviours into logs.
"""
