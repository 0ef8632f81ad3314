"""Cochran–Armitage test for a trend in proportions, with the standard library only.

Used to ask, within one exception ground, whether the grant rate rises with the number of
contacts before the decision: the "squeaky wheel" pattern, where persistence decides.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

# Stated once, quoted by the report and the docs.
SIGNIFICANCE_LEVEL = 0.05
MIN_SAMPLE = 20  # decisions within the ground
MIN_LEVELS = 2  # contact counts with at least MIN_PER_LEVEL decisions each
MIN_PER_LEVEL = 5


class Verdict(models.TextChoices):
    NOT_ENOUGH_DATA = "not_enough_data", _("Not enough data")
    NO_TREND = "no_trend", _("No trend with contacts")
    RISES_WITH_CONTACTS = "rises_with_contacts", _("Grant rate rises with contacts")
    FALLS_WITH_CONTACTS = "falls_with_contacts", _("Grant rate falls with contacts")


@dataclass(frozen=True)
class TrendResult:
    verdict: str
    n: int
    z: float | None = None
    p_value: float | None = None

    @property
    def label(self) -> str:
        return str(Verdict(self.verdict).label)

    @property
    def flagged(self) -> bool:
        return self.verdict == Verdict.RISES_WITH_CONTACTS


def cochran_armitage(groups: Sequence[tuple[float, int, int]]) -> tuple[float, float] | None:
    """(z, two-sided p) for groups of (score, trials, successes); None if undefined."""
    groups = [(t, n, r) for t, n, r in groups if n > 0]
    total = sum(n for _, n, _ in groups)
    successes = sum(r for _, _, r in groups)
    if total == 0 or len(groups) < 2:
        return None
    p = successes / total
    statistic = sum(t * (r - n * p) for t, n, r in groups)
    spread = sum(t * t * n for t, n, _ in groups) - sum(t * n for t, n, _ in groups) ** 2 / total
    variance = p * (1 - p) * spread
    if variance <= 0:
        return None
    z = statistic / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2))


def contact_trend(
    groups: Sequence[tuple[int, int, int]],
    *,
    alpha: float = SIGNIFICANCE_LEVEL,
    min_sample: int = MIN_SAMPLE,
) -> TrendResult:
    """Verdict for (contacts, decisions, granted) groups of one ground."""
    n = sum(g[1] for g in groups)
    levels = sum(1 for g in groups if g[1] >= MIN_PER_LEVEL)
    if n < min_sample or levels < MIN_LEVELS:
        return TrendResult(Verdict.NOT_ENOUGH_DATA, n)
    result = cochran_armitage([(float(t), total, granted) for t, total, granted in groups])
    if result is None:
        return TrendResult(Verdict.NO_TREND, n)
    z, p_value = result
    if p_value < alpha:
        verdict = Verdict.RISES_WITH_CONTACTS if z > 0 else Verdict.FALLS_WITH_CONTACTS
    else:
        verdict = Verdict.NO_TREND
    return TrendResult(verdict, n, z, p_value)
