"""Remembering every row of a file in about 12 bytes, to find exact repeats in bounded memory.

A 200 MB file has millions of rows; a Python dict of fingerprints would cost ~100 bytes each.
``SeenRows`` keeps 64-bit fingerprints and their first line in sorted numpy segments, merged
like a binary counter (so adding n rows costs O(n log n)), and answers a chunk's lookups with
one ``searchsorted`` per segment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


def fingerprint(cells: Sequence[str]) -> int:
    """A 64-bit digest of a row's cells; a collision among 10 million rows is ~1 in 400,000."""
    data = "\x1f".join(cells).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


class SeenRows:
    def __init__(self) -> None:
        self._segments: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted keys, lines)

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self._segments)

    def check_and_add(self, keys: Sequence[int], lines: Sequence[int]) -> list[int]:
        """For each key, the line it was first seen on (0: new); then remember the new ones.

        Within ``keys`` a repeat of an earlier key of the same batch counts too.
        """
        if not keys:
            return []
        result = self.lookup(keys)
        first_in_batch: dict[int, int] = {}
        new_keys: list[int] = []
        new_lines: list[int] = []
        for index, key in enumerate(keys):
            if result[index]:
                continue
            line = first_in_batch.get(key)
            if line is not None:
                result[index] = line
            else:
                first_in_batch[key] = lines[index]
                new_keys.append(key)
                new_lines.append(lines[index])
        if new_keys:
            self._add(
                np.fromiter(new_keys, dtype=np.uint64, count=len(new_keys)),
                np.fromiter(new_lines, dtype=np.int64, count=len(new_lines)),
            )
        return result

    def lookup(self, keys: Sequence[int]) -> list[int]:
        """For each key, the line it was first seen on; 0 when never seen. Adds nothing."""
        wanted = np.fromiter(keys, dtype=np.uint64, count=len(keys))
        earlier = np.zeros(len(keys), dtype=np.int64)
        for seg_keys, seg_lines in self._segments:
            at = np.searchsorted(seg_keys, wanted)
            at[at == len(seg_keys)] = 0
            hit = (seg_keys[at] == wanted) & (earlier == 0)
            earlier[hit] = seg_lines[at[hit]]
        return earlier.tolist()

    def _add(self, keys: np.ndarray, lines: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self._segments.append((keys[order], lines[order].astype(np.uint32)))
        while len(self._segments) > 1 and len(self._segments[-2][0]) <= 2 * len(
            self._segments[-1][0]
        ):
            (k2, l2), (k1, l1) = self._segments.pop(), self._segments.pop()
            merged_keys = np.concatenate([k1, k2])
            merged_lines = np.concatenate([l1, l2])
            order = np.argsort(merged_keys, kind="stable")
            self._segments.append((merged_keys[order], merged_lines[order]))
