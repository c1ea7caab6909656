"""Shared pytest configuration.

Hypothesis profiles: ``ci`` (the default, small and fast) and ``thorough`` (10,000 examples per
property; run with ``python -m pytest --hypothesis-profile=thorough tests/test_properties.py``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
