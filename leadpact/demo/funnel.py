"""The shape of the demo funnel, learned from the Olist marketing funnel.

The demo's channel mix, close rate per channel, the spread of first contacts over the week,
the time from first contact to a won deal and the sellers' segments and types all come from
Olist's 8,000 marketing-qualified leads and 842 closed deals (settings.DATASETS_DIR). When
that folder is absent, the same figures come from the constants below, which were computed
from those two files (see ``olist_funnel``). No Django models here: the world builder feeds
this into its simulation.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

MQL_FILE = "olist_marketing_qualified_leads.csv"
DEALS_FILE = "olist_closed_deals.csv"

# --- fallback constants, computed from the two Olist files (8,000 MQLs, 842 won deals) ---------
# (channel → MQLs, won deals); an empty origin (60 rows) is counted as "unknown".
OLIST_CHANNELS: dict[str, tuple[int, int]] = {
    "organic_search": (2296, 271),
    "paid_search": (1586, 195),
    "social": (1350, 75),
    "unknown": (1159, 193),
    "direct_traffic": (499, 56),
    "email": (493, 15),
    "referral": (284, 24),
    "other": (150, 4),
    "display": (118, 6),
    "other_publicities": (65, 3),
}
# Share of first contacts per weekday, Monday first.
OLIST_WEEKDAYS: tuple[float, ...] = (0.1869, 0.1815, 0.1864, 0.1693, 0.1437, 0.0659, 0.0664)
# Days from first contact to the won date: 10th, 25th, 50th, 75th and 90th percentiles.
OLIST_DAYS_TO_WIN: tuple[float, ...] = (2.62, 5.86, 14.65, 54.99, 162.59)
# Closed deals by the seller's lead type and business segment (the 12 largest segments).
OLIST_LEAD_TYPES: dict[str, int] = {
    "online_medium": 332,
    "online_big": 126,
    "industry": 123,
    "offline": 104,
    "online_small": 77,
    "online_beginner": 57,
    "online_top": 14,
}
OLIST_SEGMENTS: dict[str, int] = {
    "home_decor": 105,
    "health_beauty": 93,
    "car_accessories": 77,
    "household_utilities": 71,
    "construction_tools_house_garden": 69,
    "audio_video_electronics": 64,
    "computers": 34,
    "pet": 30,
    "food_supplement": 28,
    "food_drink": 26,
    "sports_leisure": 25,
    "bed_bath_table": 22,
}
OLIST_BUSINESS_TYPES: dict[str, int] = {"reseller": 587, "manufacturer": 242}
# Declared monthly revenue (BRL) of the 45 won sellers who declared one: 10/25/50/75/90th pct.
OLIST_MONTHLY_REVENUE: tuple[float, ...] = (5400.0, 15000.0, 50000.0, 130000.0, 280000.0)


@dataclass(frozen=True)
class Funnel:
    """What the simulation needs: channel mix and close rates, timing, and seller profiles."""

    channels: dict[str, tuple[int, int]]  # channel → (leads, won)
    weekdays: tuple[float, ...]
    days_to_win: tuple[float, ...]
    lead_types: dict[str, int]
    segments: dict[str, int]
    business_types: dict[str, int]
    monthly_revenue: tuple[float, ...]  # BRL, 10/25/50/75/90th percentiles
    source: str  # "olist files" or "built-in constants"

    def channel_share(self) -> dict[str, float]:
        total = sum(leads for leads, _ in self.channels.values())
        return {name: leads / total for name, (leads, _) in self.channels.items()}

    def close_rate(self, channel: str) -> float:
        leads, won = self.channels[channel]
        return won / leads if leads else 0.0


def builtin_funnel() -> Funnel:
    return Funnel(
        channels=dict(OLIST_CHANNELS),
        weekdays=OLIST_WEEKDAYS,
        days_to_win=OLIST_DAYS_TO_WIN,
        lead_types=dict(OLIST_LEAD_TYPES),
        segments=dict(OLIST_SEGMENTS),
        business_types=dict(OLIST_BUSINESS_TYPES),
        monthly_revenue=OLIST_MONTHLY_REVENUE,
        source="built-in constants",
    )


def olist_funnel(datasets_dir: Path | None) -> Funnel:
    """The funnel read from the Olist files in ``datasets_dir``, or the built-in constants."""
    if datasets_dir is None:
        return builtin_funnel()
    mql_path, deals_path = Path(datasets_dir) / MQL_FILE, Path(datasets_dir) / DEALS_FILE
    if not (mql_path.is_file() and deals_path.is_file()):
        return builtin_funnel()
    with deals_path.open(newline="", encoding="utf-8") as handle:
        deals = list(csv.DictReader(handle))
    won_by_id = {row["mql_id"]: row for row in deals}
    leads: Counter[str] = Counter()
    won: Counter[str] = Counter()
    weekdays: Counter[int] = Counter()
    days_to_win: list[float] = []
    with mql_path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            channel = (row.get("origin") or "").strip() or "unknown"
            first = datetime.strptime(row["first_contact_date"], "%d-%m-%Y")
            leads[channel] += 1
            weekdays[first.weekday()] += 1
            deal = won_by_id.get(row["mql_id"])
            if deal is not None:
                won[channel] += 1
                won_at = datetime.strptime(deal["won_date"], "%d-%m-%Y %H:%M")
                days_to_win.append(max(0.0, (won_at - first).total_seconds() / 86400))
    if not leads or not days_to_win:
        return builtin_funnel()
    days_to_win.sort()
    revenue = sorted(
        float(deal["declared_monthly_revenue"] or 0)
        for deal in deals
        if float(deal["declared_monthly_revenue"] or 0) > 0
    )
    total = sum(weekdays.values())
    return Funnel(
        channels={name: (count, won[name]) for name, count in leads.most_common()},
        weekdays=tuple(weekdays[day] / total for day in range(7)),
        days_to_win=tuple(_percentile(days_to_win, q) for q in (0.1, 0.25, 0.5, 0.75, 0.9)),
        lead_types=_top(deal["lead_type"] for deal in deals),
        segments=_top((deal["business_segment"] for deal in deals), limit=12),
        business_types=_top(deal["business_type"] for deal in deals),
        monthly_revenue=tuple(_percentile(revenue, q) for q in (0.1, 0.25, 0.5, 0.75, 0.9))
        if revenue
        else OLIST_MONTHLY_REVENUE,
        source="olist files",
    )


def _top(values, limit: int = 7) -> dict[str, int]:
    counts = Counter(v.strip() for v in values if v and v.strip() and v.strip() != "other")
    return dict(counts.most_common(limit))


def _percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation, as numpy's default."""
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


# How much likelier than average a seller of each kind is to close. Olist records the lead
# type, business type and segment only for won deals, so the rates behind these multipliers are
# the demo's assumption (bigger and manufacturing sellers close more often, beginners less):
# they give the lead profile fitted from the demo's history something real to learn.
LEAD_TYPE_LIFT: dict[str, float] = {
    "online_top": 2.0,
    "online_big": 1.7,
    "online_medium": 1.15,
    "industry": 1.1,
    "offline": 0.7,
    "online_small": 0.6,
    "online_beginner": 0.4,
}
BUSINESS_TYPE_LIFT: dict[str, float] = {"manufacturer": 1.5, "reseller": 0.85}
SEGMENT_LIFT: dict[str, float] = {
    "health_beauty": 1.35,
    "home_decor": 1.2,
    "car_accessories": 1.15,
    "computers": 0.65,
    "food_drink": 0.7,
    "bed_bath_table": 0.8,
}
LIFTS = {"lead_type": LEAD_TYPE_LIFT, "business_type": BUSINESS_TYPE_LIFT, "segment": SEGMENT_LIFT}


class CloseRates:
    """Close rate of a lead = its channel's Olist rate times its attributes' lifts, divided by the
    average lift of the funnel's mix, so each channel still closes as often as on Olist."""

    def __init__(self, funnel: Funnel) -> None:
        self.funnel = funnel
        mixes = {
            "lead_type": funnel.lead_types,
            "business_type": funnel.business_types,
            "segment": funnel.segments,
        }
        self._mean = 1.0
        for name, counts in mixes.items():
            total = sum(counts.values()) or 1
            self._mean *= sum(LIFTS[name].get(k, 1.0) * n for k, n in counts.items()) / total

    def lift(self, attributes: dict[str, str]) -> float:
        value = 1.0
        for name, lifts in LIFTS.items():
            value *= lifts.get(attributes.get(name, ""), 1.0)
        return value / self._mean

    def close_rate(self, channel: str, attributes: dict[str, str]) -> float:
        return min(0.9, self.funnel.close_rate(channel) * self.lift(attributes))
