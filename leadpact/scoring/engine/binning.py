"""Optimal binning of one attribute into bins with a conversion rate and a weight of evidence.

optbinning finds the cut points (numeric) or category groups (categorical); the bins we keep
are plain arrays so scoring never calls optbinning again. Missing values always get a bin of
their own; a missing bin too small to trust borrows the bin whose conversion rate is nearest,
so its points cannot contradict its rate.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

NUMERIC = "numeric"
CATEGORICAL = "categorical"
#: Rates are clipped before the log-odds so a pure bin keeps a finite weight of evidence.
RATE_CLIP = 0.002


@dataclass
class AttributeBins:
    """One attribute's bins. Bin ``k`` of ``n_bins`` is the missing bin (index ``n_bins - 1``).

    Numeric: ``edges`` are the cut points, bin ``i`` holds ``edges[i-1] <= x < edges[i]``.
    Categorical: ``categories`` maps every value seen in training to its bin; values never
    seen are scored neutral (zero points) rather than rejected.
    """

    name: str
    kind: str
    labels: list[str]
    counts: np.ndarray
    events: np.ndarray
    woe: np.ndarray
    iv: float
    edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    categories: dict[str, int] = field(default_factory=dict)
    missing_merged_into: int | None = None

    @property
    def n_bins(self) -> int:
        return len(self.labels)

    @property
    def missing_index(self) -> int:
        return self.n_bins - 1

    @property
    def rates(self) -> np.ndarray:
        return np.divide(
            self.events, self.counts, out=np.full(len(self.counts), np.nan), where=self.counts > 0
        )

    def codes(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Bin index of every value; ``-1`` marks a category never seen in training."""
        if self.kind == NUMERIC:
            x = np.asarray(values, dtype=np.float64)
            out = np.searchsorted(self.edges, x, side="right")
            out[~np.isfinite(x)] = self.missing_index
            return out
        series = pd.Series(values, copy=False)
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        lookup = np.array(
            [self.categories.get(str(u), -1) for u in uniques] + [self.missing_index],
            dtype=np.int64,
        )
        return lookup[codes]


def _numeric_labels(edges: np.ndarray) -> list[str]:
    if len(edges) == 0:
        return ["all values"]
    fmt = "{:g}".format
    labels = [f"< {fmt(edges[0])}"]
    labels += [f"[{fmt(lo)}, {fmt(hi)})" for lo, hi in itertools.pairwise(edges)]
    labels.append(f">= {fmt(edges[-1])}")
    return labels


def woe_from_counts(counts: np.ndarray, events: np.ndarray, base_rate: float) -> np.ndarray:
    """Log-odds of each bin's own conversion rate minus the overall log-odds.

    A monotone function of the bin's raw rate, so a higher-converting bin never gets a lower
    weight; empty bins are neutral.
    """
    rates = np.divide(events, counts, out=np.full(len(counts), base_rate), where=counts > 0)
    rates = np.clip(rates, RATE_CLIP, 1 - RATE_CLIP)
    base = np.clip(base_rate, RATE_CLIP, 1 - RATE_CLIP)
    return np.log(rates / (1 - rates)) - np.log(base / (1 - base))


def information_value(counts: np.ndarray, events: np.ndarray) -> float:
    nonevents = counts - events
    e = (events + 0.5) / (events.sum() + 0.5)
    n = (nonevents + 0.5) / (nonevents.sum() + 0.5)
    keep = counts > 0
    return float(np.sum((e[keep] - n[keep]) * np.log(e[keep] / n[keep])))


def bin_attribute(
    name: str,
    values: pd.Series,
    y: np.ndarray,
    *,
    kind: str,
    min_bin_size: float = 0.01,
    cat_cutoff: float = 0.01,
    monotonic_trend: str | None = "auto",
    max_n_prebins: int = 20,
) -> AttributeBins:
    """Bin one attribute against a 0/1 outcome (optbinning finds the cuts; we keep arrays)."""
    from optbinning import OptimalBinning  # heavy import; only fitting needs it

    y = np.asarray(y, dtype=np.int64)
    if kind == NUMERIC:
        x = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(x)
        options = {"monotonic_trend": monotonic_trend, "max_n_prebins": max_n_prebins}
        dtype = "numerical"
        fit_x = np.where(finite, x, np.nan)
    else:
        series = pd.Series(values, copy=False)
        finite = series.notna().to_numpy()
        fit_x = series.astype(object).where(series.notna(), np.nan).to_numpy()
        options = {"cat_cutoff": cat_cutoff, "monotonic_trend": "auto"}
        dtype = "categorical"
    edges = np.empty(0)
    categories: dict[str, int] = {}
    n_value_bins = 1
    if finite.any():
        binner = OptimalBinning(name=name, dtype=dtype, min_bin_size=min_bin_size, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            binner.fit(fit_x, y)
        if kind == NUMERIC:
            edges = np.asarray(binner.splits, dtype=np.float64)
            n_value_bins = len(edges) + 1
        else:
            uniques = pd.unique(fit_x[finite])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                idx = np.asarray(binner.transform(uniques, metric="indices"), dtype=np.int64)
            n_value_bins = max(int(idx.max()) + 1, 1)
            if n_value_bins == 1:
                idx, n_value_bins = _pure_value_bins(fit_x[finite], y[finite], uniques, cat_cutoff)
            categories = {
                str(u): int(i) if i >= 0 else n_value_bins - 1
                for u, i in zip(uniques, idx, strict=True)
            }
    if kind == NUMERIC:
        labels = _numeric_labels(edges)
    else:
        groups: list[list[str]] = [[] for _ in range(n_value_bins)]
        for value, index in categories.items():
            groups[index].append(value)
        labels = [", ".join(sorted(group)) or "(none)" for group in groups]
    labels.append("missing")
    bins = AttributeBins(
        name=name,
        kind=kind,
        labels=labels,
        counts=np.zeros(len(labels)),
        events=np.zeros(len(labels)),
        woe=np.zeros(len(labels)),
        iv=0.0,
        edges=edges,
        categories=categories,
    )
    codes = bins.codes(values)
    bins.counts = np.bincount(codes, minlength=len(labels)).astype(np.float64)
    bins.events = np.bincount(codes, weights=y, minlength=len(labels)).astype(np.float64)
    _merge_small_missing(bins, min_count=max(min_bin_size * len(y), 20.0))
    bins.woe = woe_from_counts(bins.counts, bins.events, float(y.mean()))
    if bins.missing_merged_into is not None:
        bins.woe[bins.missing_index] = bins.woe[bins.missing_merged_into]
    bins.iv = information_value(bins.counts, bins.events)
    return bins


def _merge_small_missing(bins: AttributeBins, *, min_count: float) -> None:
    """Fold a missing bin too small to trust into the value bin with the nearest rate.

    Its counts join that bin (so the shared rate is what both are scored on) and the merged
    rate stays between the two original rates, keeping points ordered like rates.
    """
    m = bins.missing_index
    if bins.counts[m] == 0 or bins.counts[m] >= min_count or bins.n_bins < 2:
        return
    value_rates = bins.rates[:m]
    if np.all(np.isnan(value_rates)):
        return
    missing_rate = bins.events[m] / bins.counts[m]
    target = int(np.nanargmin(np.abs(value_rates - missing_rate)))
    bins.counts[target] += bins.counts[m]
    bins.events[target] += bins.events[m]
    bins.counts[m] = 0
    bins.events[m] = 0
    bins.missing_merged_into = target
    bins.labels[m] = f"missing (scored as {bins.labels[target]})"


def _pure_value_bins(
    x: np.ndarray, y: np.ndarray, uniques: np.ndarray, cat_cutoff: float
) -> tuple[np.ndarray, int]:
    """Bins by value when optbinning collapsed a column holding *pure* values.

    optbinning drops prebins whose leads all converted (or none did), so a column like
    "status after the sales call" would look uninformative and escape the leakage guard.
    Frequent values get a bin each (rare ones share one) when any frequent value is pure;
    otherwise the single bin stands.
    """
    frame = pd.DataFrame({"x": x, "y": y})
    stats = frame.groupby("x", sort=False)["y"].agg(["size", "mean"])
    frequent = stats[stats["size"] >= max(cat_cutoff * len(x), 20)]
    if len(frequent) < 2 or not ((frequent["mean"] == 0) | (frequent["mean"] == 1)).any():
        return np.zeros(len(uniques), dtype=np.int64), 1
    index = {value: i for i, value in enumerate(frequent.index)}
    rare = len(index)
    idx = np.array([index.get(u, rare) for u in uniques], dtype=np.int64)
    return idx, int(idx.max()) + 1
