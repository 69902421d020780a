"""Finding leads that are likely the same person: blocking plus fuzzy scoring, no ORM.

Comparing every lead with every other is quadratic, so leads are first put into blocks that a
duplicate almost always shares (same company key; same last name and company initial; same
phone; same e-mail local part), and only leads within a block are paired: small blocks
exhaustively in one vectorised step, large ones through rapidfuzz's ``cdist`` on the names.
Every pair found is then scored once, all pairs together (``cpdist``), by rules a person can
read back in the pair's reason. Name similarity is ``token_sort_ratio`` on ``search_key``
(computed as ``ratio`` on tokens sorted once per lead); company similarity is ``ratio`` on
``company_key`` (suffixes such as "Inc." already stripped).

The service in ``leads/services/dedupe.py`` loads the leads into a DataFrame, calls
``likely_duplicate_pairs`` and writes the result; this module knows nothing of the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from leadpact.leads.normalize import (
    GENERIC_LOCAL_PARTS,
    email_local_part,
    fold,
    last_name_key,
)

__all__ = [
    "COLUMNS",
    "GENERIC_LOCAL_PARTS",
    "MatchRules",
    "email_local_part",
    "last_name_key",
    "likely_duplicate_pairs",
]

# The lead columns the matcher reads.
COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "search_key",
    "company_name",
    "company_key",
    "phone",
    "email_key",
)

REASON_MAX = 200


@dataclass(frozen=True)
class MatchRules:
    """Thresholds (0-100, rapidfuzz scale) of the matching rules.

    A pair is a likely duplicate when
    * names are similar (``name_min`` on the folded full name, and first names compatible:
      ``first_name_min`` or one is a prefix of the other, "J" / "Jon" / "Jonathan", so that
      "Jane Smith" and "John Smith" stay apart) and the companies are similar
      (``company_min``), or
    * they share a phone number and the names do not contradict it (``phone_name_min``), or
    * they share an e-mail local part at different domains and the names do not contradict it
      (``local_name_min``).
    """

    name_min: float = 85
    first_name_min: float = 80
    company_min: float = 85
    phone_name_min: float = 60
    local_name_min: float = 70
    # A large name block ("Smith" at a big company) is compared in chunks of ``chunk_rows``
    # query rows so memory stays bounded; an exact-key block (phone, e-mail local part) larger
    # than ``max_exact_block`` holds no information (a switchboard number) and is skipped.
    chunk_rows: int = 2000
    max_exact_block: int = 200
    # Blocks up to this size are paired exhaustively in one vectorised step, without ``cdist``.
    small_block: int = 16


def likely_duplicate_pairs(
    leads: pd.DataFrame,
    *,
    targets: np.ndarray | None = None,
    rules: MatchRules | None = None,
) -> pd.DataFrame:
    """Likely duplicate pairs among ``leads`` (columns ``COLUMNS``).

    ``targets``: lead ids of interest; only pairs with at least one of them are returned
    (``None``: all pairs). Returns columns ``lead_a < lead_b``, ``similarity`` (0-1) and
    ``reason``, best first.
    """
    rules = rules or MatchRules()
    frame = _prepared(leads)
    n = len(frame)
    empty = pd.DataFrame({"lead_a": [], "lead_b": [], "similarity": [], "reason": []})
    if n < 2:
        return empty
    ids = frame["id"].to_numpy(dtype=np.int64)
    is_target = np.ones(n, dtype=bool) if targets is None else np.isin(ids, targets)
    if not is_target.any():
        return empty

    names = frame["name_sorted"].to_numpy(dtype=object)
    with_name = frame["search_key"].to_numpy(dtype=object) != ""
    found: list[np.ndarray] = []
    for column in ("company_key", "last_company_key"):
        blocks = _blocks(frame[column].to_numpy(dtype=object), with_name)
        found.extend(_pairs_in_blocks(blocks, is_target, rules, names=names))
    for column in ("phone", "local"):
        blocks = _blocks(frame[column].to_numpy(dtype=object), None)
        found.extend(_pairs_in_blocks(blocks, is_target, rules, names=None))
    if not found:
        return empty
    codes = pd.unique(np.concatenate(found))
    left, right = np.divmod(codes, n)
    return _scored(frame, left, right, rules)


def _prepared(leads: pd.DataFrame) -> pd.DataFrame:
    frame = leads.loc[:, list(COLUMNS)].reset_index(drop=True).copy()
    for column in COLUMNS[1:]:
        frame[column] = frame[column].fillna("").astype(str).astype(object)
    frame["last_key"] = _per_value(frame["last_name"], last_name_key)
    frame["first_key"] = _per_value(frame["first_name"], fold)
    # token_sort_ratio is ratio on sorted tokens: sort once here, not once per comparison
    frame["name_sorted"] = _per_value(
        frame["search_key"], lambda key: " ".join(sorted(key.split()))
    )
    frame["local"] = [email_local_part(key) for key in frame["email_key"]]
    frame["domain"] = [key.partition("@")[2] for key in frame["email_key"]]
    # Similar names at similar companies: the name rule needs similar company keys anyway, so
    # the last-name block is split by the company key's first letter (a ~20x smaller search).
    with_company = frame["company_key"] != ""
    frame["last_company_key"] = np.where(
        (frame["last_key"] != "") & with_company,
        frame["last_key"] + "|" + frame["company_key"].str[:1],
        "",
    )
    return frame


def _per_value(values: pd.Series, function) -> np.ndarray:
    """``function`` applied once per distinct value (names repeat a lot), not once per row."""
    codes, uniques = pd.factorize(values.to_numpy())
    mapped = np.array([function(value) for value in uniques] + [""], dtype=object)
    return mapped[codes]  # code -1 (missing) picks the trailing ""


Blocks = tuple[np.ndarray, np.ndarray, np.ndarray]


def _blocks(keys: np.ndarray, usable: np.ndarray | None) -> Blocks:
    """Rows sharing a non-empty key, for keys held by two rows or more: the row positions
    ordered by block (ascending within a block), and each block's start and size."""
    mask = keys != ""
    if usable is not None:
        mask &= usable
    positions = np.flatnonzero(mask)
    codes, uniques = pd.factorize(keys[positions])
    counts = np.bincount(codes, minlength=len(uniques))
    shared = counts[codes] >= 2
    positions, codes = positions[shared], codes[shared]
    order = np.argsort(codes, kind="stable")
    positions, codes = positions[order], codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else codes
    sizes = np.diff(np.r_[starts, len(positions)])
    return positions, starts, sizes


def _pairs_in_blocks(
    blocks: Blocks, is_target: np.ndarray, rules: MatchRules, *, names: np.ndarray | None
) -> Iterator[np.ndarray]:
    """Pair codes (``i * n + j``, i < j) of rows in the same block with a target among them.

    Small blocks give every pair, all blocks of one size at once (scoring sorts them out
    later); a larger block gives, with ``names``, the pairs whose names are similar (``cdist``),
    and without, every pair unless it is too large to mean anything.
    """
    positions, starts, sizes = blocks
    n = len(is_target)
    small = sizes <= rules.small_block
    for size in np.unique(sizes[small]):
        members = positions[starts[sizes == size][:, None] + np.arange(size)]
        r, c = np.triu_indices(size, k=1)
        i, j = members[:, r].ravel(), members[:, c].ravel()
        keep = is_target[i] | is_target[j]
        yield i[keep] * n + j[keep]
    for start, size in zip(starts[~small], sizes[~small], strict=True):
        block = positions[start : start + size]
        if names is not None:
            yield from _similar_in_block(block, names, is_target, rules)
        elif size <= rules.max_exact_block:
            yield _all_in_block(block, is_target)


def _similar_in_block(
    block: np.ndarray, names: np.ndarray, is_target: np.ndarray, rules: MatchRules
) -> Iterator[np.ndarray]:
    """Pair codes (``i * n + j``, i < j) of rows in ``block`` whose names are similar."""
    n = len(names)
    queries = block[is_target[block]]
    choices = names[block]
    for start in range(0, len(queries), rules.chunk_rows):
        rows = queries[start : start + rules.chunk_rows]
        scores = process.cdist(
            names[rows],
            choices,
            scorer=fuzz.ratio,
            score_cutoff=rules.name_min,
            dtype=np.uint8,
            workers=1,
        )
        r, c = np.nonzero(scores)
        i, j = rows[r], block[c]
        keep = i != j
        i, j = i[keep], j[keep]
        yield np.minimum(i, j) * n + np.maximum(i, j)


def _all_in_block(block: np.ndarray, is_target: np.ndarray) -> np.ndarray:
    n = len(is_target)
    r, c = np.triu_indices(len(block), k=1)
    i, j = block[r], block[c]
    keep = is_target[i] | is_target[j]
    return i[keep] * n + j[keep]


def _scored(frame: pd.DataFrame, left: np.ndarray, right: np.ndarray, rules: MatchRules):
    # Most pairs from small blocks fail on the name alone: drop them before the costlier checks.
    names = frame["name_sorted"].to_numpy(dtype=object)
    quick = _pairwise(names[left], names[right], fuzz.ratio) >= rules.name_min
    for column in ("phone", "local"):
        values = frame[column].to_numpy(dtype=object)
        quick |= (values[left] == values[right]) & (values[left] != "")
    left, right = left[quick], right[quick]

    def col(name: str) -> tuple[np.ndarray, np.ndarray]:
        values = frame[name].to_numpy(dtype=object)
        return values[left], values[right]

    name_l, name_r = col("name_sorted")
    first_l, first_r = col("first_key")
    comp_l, comp_r = col("company_key")
    phone_l, phone_r = col("phone")
    local_l, local_r = col("local")
    domain_l, domain_r = col("domain")

    has_names = (name_l != "") & (name_r != "")
    name_sim = np.where(has_names, _pairwise(name_l, name_r, fuzz.ratio), 0.0)
    has_companies = (comp_l != "") & (comp_r != "")
    company_sim = np.where(has_companies, _pairwise(comp_l, comp_r, fuzz.ratio), 0.0)
    first_prefix = np.array(
        [a.startswith(b) or b.startswith(a) for a, b in zip(first_l, first_r, strict=True)],
        dtype=bool,
    )
    first_ok = first_prefix | (_pairwise(first_l, first_r, fuzz.ratio) >= rules.first_name_min)
    same_phone = (phone_l == phone_r) & (phone_l != "")
    same_local = (local_l == local_r) & (local_l != "") & (domain_l != domain_r)
    names_agree = ~has_names | first_ok

    by_name = has_names & first_ok & (name_sim >= rules.name_min)
    by_name &= company_sim >= rules.company_min
    by_phone = same_phone & names_agree & (~has_names | (name_sim >= rules.phone_name_min))
    by_local = same_local & names_agree & (~has_names | (name_sim >= rules.local_name_min))
    keep = by_name | by_phone | by_local

    similarity = np.zeros(len(left))
    similarity = np.maximum(similarity, np.where(by_name, 0.6 * name_sim + 0.4 * company_sim, 0))
    similarity = np.maximum(similarity, np.where(by_phone, 80 + 0.2 * name_sim, 0))
    similarity = np.maximum(similarity, np.where(by_local, 75 + 0.2 * name_sim, 0))

    kept = np.flatnonzero(keep)
    ids = frame["id"].to_numpy(dtype=np.int64)
    a, b = ids[left[kept]], ids[right[kept]]
    names_raw = (frame["first_name"] + " " + frame["last_name"]).str.strip().to_numpy(dtype=object)
    companies = frame["company_name"].to_numpy(dtype=object)
    reasons = [
        _reason(
            name_same=name_l[k] == name_r[k],
            names=(names_raw[left[k]], names_raw[right[k]]),
            by_name=bool(by_name[k]),
            companies=(companies[left[k]], companies[right[k]]),
            by_phone=bool(by_phone[k]),
            by_local=bool(by_local[k]),
        )
        for k in kept
    ]
    result = pd.DataFrame(
        {
            "lead_a": np.minimum(a, b),
            "lead_b": np.maximum(a, b),
            "similarity": np.round(np.minimum(similarity[kept], 100) / 100, 3),
            "reason": reasons,
        }
    )
    return result.sort_values(["similarity", "lead_a"], ascending=[False, True], ignore_index=True)


def _pairwise(left: np.ndarray, right: np.ndarray, scorer) -> np.ndarray:
    if len(left) == 0:
        return np.zeros(0)
    return process.cpdist(list(left), list(right), scorer=scorer, workers=1).astype(float)


def _reason(
    *,
    name_same: bool,
    names: tuple[str, str],
    by_name: bool,
    companies: tuple[str, str],
    by_phone: bool,
    by_local: bool,
) -> str:
    """Why a pair looks alike, in words: ``same name; company 'ACME, Inc.' ≈ 'Acme'``."""
    parts: list[str] = []
    if by_name:
        parts.append("same name" if name_same else f"name {_q(names[0])} ≈ {_q(names[1])}")
        if companies[0] == companies[1]:
            parts.append(f"same company {_q(companies[0])}")
        else:
            parts.append(f"company {_q(companies[0])} ≈ {_q(companies[1])}")
    if by_phone:
        parts.append("same phone")
    if by_local:
        parts.append("same e-mail name at another domain")
    text = "; ".join(parts)
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def _q(text: str) -> str:
    text = text if len(text) <= 40 else text[:39] + "…"
    return f"'{text}'"
