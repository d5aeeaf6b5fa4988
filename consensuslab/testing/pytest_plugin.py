"""pytest plugin (entry point ``pytest11: consensuslab``): registers the Hypothesis profiles.

Registration happens at import, before Hypothesis's own plugin reads
``--hypothesis-profile`` in ``pytest_configure``, so the profile names are
known whichever plugin pytest configures first.
"""

from consensuslab.checkers.simulation.profiles import register_profiles

register_profiles()
