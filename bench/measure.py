"""Small measuring helpers used inside the worker processes."""

from __future__ import annotations

import resource
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any


def percentiles(samples: list[float], *, ndigits: int = 2) -> dict[str, float]:
    """p50/p95/p99, the mean and the extremes of ``samples`` (in the samples' unit)."""
    if not samples:
        return {}
    ordered = sorted(samples)
    if len(ordered) == 1:
        cuts = [ordered[0]] * 99
    else:
        cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "n": len(ordered),
        "p50": round(cuts[49], ndigits),
        "p95": round(cuts[94], ndigits),
        "p99": round(cuts[98], ndigits),
        "mean": round(statistics.fmean(ordered), ndigits),
        "min": round(ordered[0], ndigits),
        "max": round(ordered[-1], ndigits),
    }


def timed_ms(action: Callable[[], Any], *, repeat: int, warmup: int = 2) -> list[float]:
    """Milliseconds of ``repeat`` calls of ``action`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class RssSampler:
    """Samples this process's resident memory in a thread: ``with RssSampler() as rss: …``,
    then ``rss.peak_mb`` and ``rss.growth_mb`` (peak minus the size at the start)."""

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.start_mb = 0.0
        self.peak_mb = 0.0

    def _rss_mb(self) -> float:
        return self._process.memory_info().rss / 2**20

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def __enter__(self) -> RssSampler:
        self.start_mb = self.peak_mb = self._rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb())

    @property
    def growth_mb(self) -> float:
        return round(self.peak_mb - self.start_mb, 1)
