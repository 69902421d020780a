"""The monthly SLA compliance report: did sales answer and contact in time, did marketing deliver.

Pure computation (pandas) over the rows ``selectors.compliance_rows`` reads, so the page runs
the same handful of queries for five offers or fifty thousand. Durations are business hours on
the calendar the SLA itself is counted in (policy's, else team's, else Monday-Friday 9-17 UTC),
so a lead offered on Friday evening and accepted on Monday morning took minutes, not days.
They are stored when an offer is answered and when a clock is met or breached
(``Offer.answer_business_hours``, ``SlaClock.business_hours``), so a past month is judged by
the calendar valid at the time, not by today's; time a clock spent paused is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from leadpact.common.errors import ApplicationError
from leadpact.routing.models import Offer, SlaClock, SlaPolicy
from leadpact.routing.selectors import ComplianceRows
from leadpact.routing.services.clocks import PolicyBook

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
FIRST_YEAR, LAST_YEAR = 2000, 2999
NO_REASON = "No reason given"
NO_TEAM = "No team"

# The per-rep / per-team columns, in the order of the table and the CSV.
COUNT_COLUMNS = ("offered", "accepted", "rejected", "expired", "withdrawn", "pending")
HOUR_COLUMNS = ("accept_median", "accept_p90", "contact_median", "contact_p90")
CLOCK_COLUMNS = ("met", "breached")


def month_from_param(raw: str | None, *, today: date) -> date:
    """``"2026-03"`` → 1 March 2026; empty → this month. Anything else: a clear error."""
    raw = (raw or "").strip()
    if not raw:
        return today.replace(day=1)
    match = _MONTH.match(raw)
    if not match:
        raise ApplicationError(f"Month must look like 2026-03 (year-month), got {raw[:20]!r}.")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ApplicationError(f"There is no month {month}: use 01 to 12.")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ApplicationError(f"Choose a year between {FIRST_YEAR} and {LAST_YEAR}.")
    return date(year, month, 1)


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The month as ``[start, end)`` aware datetimes in ``zone`` (the site's time zone)."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (
        datetime.combine(month, datetime.min.time(), tzinfo=zone),
        datetime.combine(following, datetime.min.time(), tzinfo=zone),
    )


@dataclass
class ComplianceReport:
    month: date
    reps: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    delivery: list[dict[str, Any]] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def chart(self) -> dict[str, list[Any]]:
        """Met vs breached clocks per rep, for the Chart.js bar chart."""
        return {
            "labels": [r["name"] for r in self.reps],
            "met": [r["met"] for r in self.reps],
            "breached": [r["breached"] for r in self.reps],
        }


def _name(row: dict[str, Any]) -> str:
    full = f"{row['rep__first_name']} {row['rep__last_name']}".strip()
    return full or row["rep__username"]


def _frame(rows: list[dict[str, Any]], teams: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """Rows → a frame with the rep's name and the team the work counts for."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["rep_id", "rep_name", "team", "team_name", "status", "hours"])
    frame["rep_name"] = [_name(r) for r in rows]
    # An offer made straight to a rep may have no team: it counts for the rep's own team.
    team = frame["team_id"].where(frame["team_id"].notna(), frame["rep__team_id"])
    frame["team"] = team.astype("Int64")
    frame["team_name"] = [
        teams[int(t)]["name"] if pd.notna(t) and int(t) in teams else NO_TEAM for t in frame["team"]
    ]
    return frame


def _hours_stats(frame: pd.DataFrame, key: str, prefix: str) -> pd.DataFrame:
    durations = frame.dropna(subset=["hours"]).astype({"hours": float})
    grouped = durations.groupby(key)["hours"]
    return pd.DataFrame(
        {f"{prefix}_median": grouped.median(), f"{prefix}_p90": grouped.quantile(0.9)}
    )


def _summary(offers: pd.DataFrame, clocks: pd.DataFrame, key: str, label: str) -> list[dict]:
    """One row per ``key`` (rep or team): counts, business-hour percentiles, clocks met/breached."""
    counts = pd.crosstab(offers[key], offers["status"]) if not offers.empty else pd.DataFrame()
    counts = counts.reindex(columns=[s.value for s in Offer.Status], fill_value=0)
    counts = counts.rename(columns={Offer.Status.PENDING.value: "pending"})
    counts["offered"] = counts.sum(axis=1)
    accepted = offers[offers["status"] == Offer.Status.ACCEPTED] if not offers.empty else offers
    contacts = (
        clocks[clocks["policy__kind"] == SlaPolicy.Kind.FIRST_CONTACT]
        if not clocks.empty
        else clocks
    )
    clock_counts = (
        pd.crosstab(clocks[key], clocks["status"]) if not clocks.empty else pd.DataFrame()
    )
    clock_counts = clock_counts.reindex(
        columns=[SlaClock.Status.MET.value, SlaClock.Status.BREACHED.value], fill_value=0
    )
    table = pd.concat(
        [
            counts,
            _hours_stats(accepted, key, "accept"),
            _hours_stats(contacts, key, "contact"),
            clock_counts,
        ],
        axis=1,
    )
    if key == label:
        table["name"] = table.index
    else:
        names = pd.concat([offers[[key, label]], clocks[[key, label]]]).drop_duplicates(key)
        table = table.join(names.set_index(key)[label].rename("name"))
    rejected = offers[offers["status"] == Offer.Status.REJECTED] if not offers.empty else offers
    reasons = (
        rejected["reason__label"].fillna(NO_REASON).groupby(rejected[key]).value_counts()
        if not rejected.empty
        else pd.Series(dtype=int)
    )
    rows = []
    for index, row in table.sort_values("name", kind="stable").iterrows():
        out: dict[str, Any] = {"key": index, "name": row["name"]}
        for column in (*COUNT_COLUMNS, *CLOCK_COLUMNS):
            out[column] = int(row[column]) if pd.notna(row[column]) else 0
        for column in HOUR_COLUMNS:
            out[column] = round(float(row[column]), 2) if pd.notna(row[column]) else None
        out["by_reason"] = (
            {str(reason): int(n) for reason, n in reasons[index].items()}
            if index in reasons.index.get_level_values(0)
            else {}
        )
        rows.append(out)
    return rows


def _delivery(
    offers: pd.DataFrame, teams: dict[int, dict[str, Any]], book: PolicyBook
) -> list[dict[str, Any]]:
    """MQLs delivered per sales team (distinct leads offered to it, as the sweep counts them)."""
    delivered = offers.groupby("team")["lead_id"].nunique() if not offers.empty else pd.Series()
    rows = []
    for pk, team in sorted(teams.items(), key=lambda item: item[1]["name"]):
        if team["kind"] != "sales":
            continue
        policy = book.policy(SlaPolicy.Kind.MQL_DELIVERY, pk)
        count = int(delivered.get(pk, 0))
        commitment = policy.amount if policy is not None else None
        rows.append(
            {
                "name": team["name"],
                "delivered": count,
                "commitment": commitment,
                "policy": policy.name if policy is not None else "",
                "met": None if commitment is None else count >= commitment,
                "short_by": None if commitment is None else max(commitment - count, 0),
            }
        )
    return rows


def _campaigns(offers: pd.DataFrame) -> list[dict[str, Any]]:
    """Per source campaign: distinct leads offered, and the share of them some rep accepted."""
    if offers.empty:
        return []
    frame = offers.assign(
        campaign=offers["lead__source_campaign__name"].fillna("(no campaign)"),
        is_accepted=offers["status"] == Offer.Status.ACCEPTED,
    )
    per_lead = frame.groupby(["campaign", "lead_id"])["is_accepted"].any().reset_index()
    summary = per_lead.groupby("campaign")["is_accepted"].agg(["size", "sum"])
    rows = [
        {
            "name": str(name),
            "offered": int(row["size"]),
            "accepted": int(row["sum"]),
            "rate": round(float(row["sum"]) / float(row["size"]), 4),
        }
        for name, row in summary.iterrows()
    ]
    return sorted(rows, key=lambda r: (-r["offered"], r["name"]))


def compliance_report(rows: ComplianceRows, month: date) -> ComplianceReport:
    offers = _frame(rows.offers, rows.teams)
    if not offers.empty:
        accepted = offers["status"] == Offer.Status.ACCEPTED
        offers["hours"] = offers["answer_business_hours"].astype(float).where(accepted)
    clocks = _frame([c for c in rows.clocks if c["rep_id"] is not None], rows.teams)
    if not clocks.empty:
        met = clocks["status"] == SlaClock.Status.MET
        clocks["hours"] = clocks["business_hours"].astype(float).where(met)
    return ComplianceReport(
        month=month,
        reps=_summary(offers, clocks, "rep_id", "rep_name"),
        teams=_summary(offers, clocks, "team_name", "team_name"),
        delivery=_delivery(offers, rows.teams, rows.book),
        campaigns=_campaigns(offers),
    )


def csv_header(report: ComplianceReport) -> list[str]:
    return [
        "rep",
        *COUNT_COLUMNS,
        *(f"rejected: {reason}" for reason in _reasons(report)),
        "accept median (business h)",
        "accept p90 (business h)",
        "first contact median (business h)",
        "first contact p90 (business h)",
        "clocks met",
        "clocks breached",
    ]


def csv_rows(report: ComplianceReport) -> list[list[Any]]:
    """The per-rep table as CSV cells (the caller neutralises formula-like text)."""
    reasons = _reasons(report)
    return [
        [
            row["name"],
            *(row[c] for c in COUNT_COLUMNS),
            *(row["by_reason"].get(reason, 0) for reason in reasons),
            *("" if row[c] is None else row[c] for c in HOUR_COLUMNS),
            *(row[c] for c in CLOCK_COLUMNS),
        ]
        for row in report.reps
    ]


def _reasons(report: ComplianceReport) -> list[str]:
    return sorted({reason for row in report.reps for reason in row["by_reason"]})
