"""How one demo lead travels through the lifecycle: which states, when, by whom and why.

A pure simulation (no database): the world builder turns each journey into the lead's final
state and owner and into timeline events. The stage probabilities are scaled per channel so
that an MQL of a channel ends up won as often as an Olist MQL of that channel did, and the
time from first contact to a closed deal follows Olist's days-to-win distribution. Journeys
are cut at "now" (the lead's age), so recent leads are still early in the funnel.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from typing import Any

from leadpact.leads.models import LeadState as S

# Base stage probabilities (MQL onwards); their product is the close rate they stand for.
P_MQL = 0.62
P_DISQUALIFY_NEW = 0.06
P_OFFER = 0.95
BASE_STAGES = {"accept": 0.75, "qualify": 0.65, "convert": 0.60, "win": 0.50}
BASE_CLOSE_RATE = P_OFFER * 0.75 * 0.65 * 0.60 * 0.50
P_RECYCLE_LOST = 0.25
P_REENGAGE = 0.2
P_NOTE = 0.3
P_MANAGER_OWNS = 0.04

REJECT_REASONS = (
    "Not the decision maker",
    "No budget this year",
    "Already sells on a competing marketplace",
    "Wrong segment: sells services, not products",
    "Could not reach after 5 attempts",
    "Too small: under 20 orders a month",
)
STALL_REASONS = (
    "No response after 5 attempts",
    "Not ready to buy this quarter",
    "Went dark after the demo",
)
LOST_REASONS = (
    "Chose a competitor",
    "Commission too high",
    "No decision",
    "No integration with their ERP",
    "Revisit after peak season",
)
DISQUALIFY_REASONS = (
    "Student project, not a business",
    "Competitor researching us",
    "Fake contact details",
    "Outside the markets we serve",
    "Consumer, not a seller",
)
NOTES = (
    "Called: runs a {segment} store on two other marketplaces, wants lower fees. Demo booked.",
    "Left a voicemail and sent the seller guide. Try again Thursday.",
    "Good fit: about 300 orders a month, own stock, ships nationwide.",
    "Asked about payout times and the returns policy; sent the FAQ.",
    "Spoke to the owner. Decision with the partner next week.",
    "Needs the ERP integration before moving; checking with product.",
    "Came to the webinar, asked sharp questions about logistics.",
    "Price-sensitive. Offered the first-quarter commission discount.",
)


ANSWER_MEAN_DAYS = 5 / 24


@dataclass
class Step:
    to: str
    day: float  # days after first contact
    actor: str | None  # a staff username; None = the system (scoring, routing)
    reason: str = ""
    owner: str | None = None  # the new owner when ``owner_changes``
    owner_changes: bool = False
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Journey:
    steps: list[Step] = field(default_factory=list)
    notes: list[tuple[float, str, str]] = field(default_factory=list)  # (day, author, text)
    state: str = S.NEW
    owner: str | None = None
    score: int = 0

    @property
    def last_day(self) -> float:
        return self.steps[-1].day if self.steps else 0.0


class DaysToWin:
    """Draws from the Olist days-to-win distribution given by its 10/25/50/75/90th percentiles."""

    def __init__(self, percentiles: tuple[float, ...]) -> None:
        p10, p25, p50, p75, p90 = percentiles
        self._qs = [0.0, 0.10, 0.25, 0.50, 0.75, 0.90, 1.0]
        self._xs = [0.5, p10, p25, p50, p75, p90, max(p90 * 2, 300.0)]

    def draw(self, rng: random.Random) -> float:
        u = rng.random()
        i = max(1, bisect.bisect_left(self._qs, u))
        q0, q1, x0, x1 = self._qs[i - 1], self._qs[i], self._xs[i - 1], self._xs[i]
        return x0 + (x1 - x0) * (u - q0) / (q1 - q0)


def stage_probabilities(close_rate: float) -> dict[str, float]:
    """Scale the four sales stages evenly so that P(won | MQL) equals ``close_rate``."""
    factor = (max(close_rate, 0.005) / BASE_CLOSE_RATE) ** 0.25
    return {stage: min(0.97, p * factor) for stage, p in BASE_STAGES.items()}


class JourneyMaker:
    """Makes journeys for leads of one demo world; all randomness comes from ``rng``."""

    def __init__(
        self,
        rng: random.Random,
        *,
        days_to_win: DaysToWin,
        sdrs: tuple[str, ...],
        account_executives: tuple[str, ...],
        manager: str,
        marketers: tuple[str, ...],
    ) -> None:
        self.rng = rng
        self.days_to_win = days_to_win
        self.sdrs = sdrs
        self.aes = account_executives
        self.manager = manager
        self.marketers = marketers

    def make(self, *, close_rate: float, age_days: float, segment: str) -> Journey:
        rng = self.rng
        journey = Journey()
        stages = stage_probabilities(close_rate)
        roll = rng.random()
        if roll < P_DISQUALIFY_NEW:
            self._add(
                journey,
                age_days,
                Step(
                    S.DISQUALIFIED,
                    rng.uniform(0.1, 6),
                    rng.choice(self.marketers),
                    rng.choice(DISQUALIFY_REASONS),
                ),
            )
        elif roll < P_DISQUALIFY_NEW + P_MQL:
            start = rng.uniform(0.02, 4.0)
            self._funnel(journey, age_days, start, stages, segment, second_pass=False)
        journey.score = self._score(journey.state)
        return journey

    # --- the funnel from MQL onwards -------------------------------------------------------
    def _funnel(
        self,
        journey: Journey,
        age: float,
        start: float,
        stages: dict[str, float],
        segment: str,
        *,
        second_pass: bool,
    ) -> None:
        rng = self.rng
        reason = "re-engaged: new touches after nurture" if second_pass else "met the lead profile"
        if not self._add(journey, age, Step(S.MQL, start, None, reason)):
            return
        if rng.random() > P_OFFER:
            return  # still waiting for routing
        total = self.days_to_win.draw(rng)
        rep = self.manager if rng.random() < P_MANAGER_OWNS else rng.choice(self.sdrs)
        offered = Step(
            S.OFFERED,
            start + rng.uniform(0.01, 1.0),
            None,
            f"offered to {rep}",
            owner=rep,
            owner_changes=True,
            data={"rule": "round robin"},
        )
        if not self._add(journey, age, offered):
            return
        # Most reps answer within hours; the exponential tail still leaves some late answers
        # (mean 5 calendar hours, so nights and weekends breach a 4-business-hour SLA at times).
        answered = offered.day + 0.02 + rng.expovariate(1 / ANSWER_MEAN_DAYS)
        if rng.random() > stages["accept"]:
            self._add(
                journey,
                age,
                Step(
                    S.RECYCLED,
                    answered,
                    rep,
                    rng.choice(REJECT_REASONS),
                    None,
                    True,
                    {"rejected": True},
                ),
            )
            self._maybe_reengage(journey, age, stages, segment, second_pass)
            return
        if not self._add(journey, age, Step(S.ACCEPTED, answered, rep)):
            return
        self._maybe_note(journey, age, rep, answered, segment)
        qualified = answered + max(0.5, 0.3 * total)
        if rng.random() > stages["qualify"]:
            self._stall(journey, age, rep, qualified)
            return
        if not self._add(journey, age, Step(S.SQL, qualified, rep)):
            return
        converted = qualified + max(0.5, 0.3 * total)
        if rng.random() > stages["convert"]:
            self._stall(journey, age, rep, converted)
            return
        closer = rep if rep == self.manager else rng.choice(self.aes)
        if not self._add(
            journey,
            age,
            Step(S.OPPORTUNITY, converted, rep, "", closer, closer != rep, {"handoff": True}),
        ):
            return
        self._maybe_note(journey, age, closer, converted, segment)
        closed = max(converted + 1.0, start + total)
        if rng.random() <= stages["win"]:
            self._add(journey, age, Step(S.WON, closed, closer))
            return
        if not self._add(journey, age, Step(S.LOST, closed, closer, rng.choice(LOST_REASONS))):
            return
        if rng.random() < P_RECYCLE_LOST:
            later = closed + rng.uniform(30, 90)
            step = Step(
                S.RECYCLED,
                later,
                rng.choice(self.marketers),
                "re-nurture: revisit next quarter",
                None,
                True,
            )
            if self._add(journey, age, step):
                self._maybe_reengage(journey, age, stages, segment, second_pass)

    def _stall(self, journey: Journey, age: float, rep: str, day: float) -> None:
        """A worked lead that goes nowhere: back to marketing, out, or left where it is."""
        roll = self.rng.random()
        if roll < 0.4:
            step = Step(S.RECYCLED, day, rep, self.rng.choice(STALL_REASONS), None, True)
            self._add(journey, age, step)
        elif roll < 0.7:
            self._add(journey, age, Step(S.DISQUALIFIED, day, rep, "Not a fit after discovery"))

    def _maybe_reengage(
        self,
        journey: Journey,
        age: float,
        stages: dict[str, float],
        segment: str,
        second_pass: bool,
    ) -> None:
        if not second_pass and self.rng.random() < P_REENGAGE:
            again = journey.last_day + self.rng.uniform(20, 120)
            self._funnel(journey, age, again, stages, segment, second_pass=True)

    def _maybe_note(
        self, journey: Journey, age: float, author: str, day: float, segment: str
    ) -> None:
        if self.rng.random() < P_NOTE:
            when = day + self.rng.uniform(0.05, 3.0)
            if when <= age:
                text = self.rng.choice(NOTES).format(segment=segment.replace("_", " "))
                journey.notes.append((when, author, text))

    @staticmethod
    def _add(journey: Journey, age: float, step: Step) -> bool:
        """Append ``step`` unless it lies in the future; returns whether it happened."""
        if step.day > age:
            return False
        journey.steps.append(step)
        journey.state = step.to
        if step.owner_changes:
            journey.owner = step.owner
        return True

    def _score(self, state: str) -> int:
        mean, spread = {
            S.NEW: (32, 11),
            S.DISQUALIFIED: (14, 7),
            S.RECYCLED: (46, 10),
            S.LOST: (60, 10),
            S.WON: (80, 8),
        }.get(state, (68, 10))
        value = round(self.rng.gauss(mean, spread))
        if state == S.NEW:
            value = min(value, 49)
        elif state in (S.MQL, S.OFFERED, S.ACCEPTED, S.SQL, S.OPPORTUNITY):
            value = max(value, 50)
        return max(0, min(100, value))
