"""The normal traffic of agenzia-ai-api that every generated promtool test replays.

``monitoring render`` generates a promtool test per alert from the config
(``infra/render/rule_tests.py``): a "normal day" of this traffic must fire nothing, and each
fault scenario starts from it. An SLO that this traffic already breaks can never pass
``monitoring validate`` (and some scenarios cannot even be built), so the config rejects it at
load time, naming the key, instead of failing later inside the test generator.

These numbers are the test generator's (``REQS_OK``/``REQS_5XX`` and ``NORMAL_LATENCY`` there);
``tests/unit/test_config_bounds.py`` checks the two stay equal.
"""

from __future__ import annotations

NORMAL_ERROR_RATIO = 0.0005
"""Share of 5xx answers in a normal minute (0.05%: 0.5 of 1000 requests)."""

NORMAL_LATENCY: tuple[tuple[float, float], ...] = (
    (0.05, 0.30),
    (0.1, 0.94),
    (0.2, 0.99),
    (0.25, 0.993),
    (0.5, 0.998),
    (1.0, 1.0),
)
"""Cumulative share of normal requests at or below each latency in seconds (p95 ≈ 120 ms)."""


def normal_slow_share(threshold_seconds: float) -> float:
    """Share of normal requests slower than ``threshold_seconds``."""
    share = 0.0
    for bound, cumulative in NORMAL_LATENCY:
        if bound <= threshold_seconds:
            share = cumulative
    return 1 - share
