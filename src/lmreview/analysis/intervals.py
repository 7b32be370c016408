"""Intervals for a share: the Wilson score interval and the bounds that non-response leaves open.

Wilson's interval is the closed formula of E. B. Wilson, "Probable inference, the law of succession, and statistical
inference", *Journal of the American Statistical Association* 22 (1927), 209-212; method 3 ("score method") in
R. G. Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven methods",
*Statistics in Medicine* 17 (1998), 857-872. With p̂ = x/n::

    centre = (p̂ + z²/2n) / (1 + z²/n)
    half   = z / (1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²)
    [centre − half, centre + half]

It stays inside [0, 1] and behaves at 0 of n and n of n, where the textbook (Wald) interval collapses to a point.
It is written here rather than taken from statsmodels, which would bring numpy, scipy and pandas for one formula.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the 0.975 quantile of the standard normal distribution: a two-sided 95% interval


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for ``successes`` of ``trials``, as shares in [0, 1]; None when ``trials`` is 0.

    >>> low, high = wilson(0, 20)
    >>> (low, round(high, 4))
    (0.0, 0.1611)
    """
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"cannot take {successes} successes of {trials} trials")
    if trials == 0:
        return None
    n = float(trials)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At 0 of n and n of n the formula gives the bound 0 (or 1) exactly in real arithmetic; say so in floats too.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def nonresponse_bounds(n: int, answered: int, units: int) -> tuple[float, float] | None:
    """The share of all ``units`` having the value, whatever the units that did not answer would have said.

    Low: none of them has it, ``n / units``. High: all of them have it, ``(n + units − answered) / units``.
    None when there are no units.
    """
    if units <= 0:
        return None
    if not 0 <= n <= answered <= units:
        raise ValueError(f"cannot bound {n} of {answered} answers among {units} units")
    return n / units, (n + units - answered) / units


def percents(
    n: int, of: int, units: int | None = None, units_n: int | None = None, units_of: int | None = None
) -> dict[str, float | None]:
    """The figures of a share ``n`` of ``of`` in percent, unrounded: ``pct`` and its Wilson interval, and with
    ``units``, the share of all units and the non-response bounds. ``units_n`` and ``units_of`` are the units having
    the value and the units that answered, when they differ from ``n`` and ``of`` (answers inside a repeat)."""
    ci = wilson(n, of)
    data: dict[str, float | None] = {
        "pct": 100 * n / of if of else None,
        "ci_low": 100 * ci[0] if ci else None,
        "ci_high": 100 * ci[1] if ci else None,
    }
    if units is not None:
        k, answered = (n if units_n is None else units_n), (of if units_of is None else units_of)
        bounds = nonresponse_bounds(k, answered, units)
        data["pct_units"] = 100 * k / units if units else None
        data["bound_low"] = 100 * bounds[0] if bounds else None
        data["bound_high"] = 100 * bounds[1] if bounds else None
    return data
