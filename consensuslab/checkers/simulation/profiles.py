"""Hypothesis profiles for protocol state machines, registered by the pytest plugin.

``consensuslab-ci``: derandomised (the same examples on every run, so CI never
flakes on a new random draw), no deadline (a model step's cost varies with the
state), ``print_blob`` so a CI failure can be reproduced locally with
``@reproduce_failure``.  ``consensuslab-nightly``: many long random runs.
Select one with ``pytest --hypothesis-profile consensuslab-ci``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

CI = "consensuslab-ci"
NIGHTLY = "consensuslab-nightly"

#: the health checks that misfire on model state machines (slow steps, long runs)
SLOW_MODEL_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large]


def register_profiles() -> None:
    """Idempotent: Hypothesis replaces a profile registered again under the same name."""
    settings.register_profile(CI, derandomize=True, deadline=None, print_blob=True, database=None,
                              suppress_health_check=SLOW_MODEL_CHECKS)
    settings.register_profile(NIGHTLY, max_examples=5000, stateful_step_count=100, deadline=None,
                              suppress_health_check=SLOW_MODEL_CHECKS)
