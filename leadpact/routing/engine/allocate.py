"""Weighted round-robin inside a team, in memory (no Django).

The rep who gets the next lead is the available one with the lowest
``(offers received + 1) / weight``; ties go to the lowest rep id. The rule is deterministic
and can be said in one sentence, so every decision carries its own explanation
("why did this lead go to Ana?"). Reps out of office or at their open-lead cap are skipped.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class RepSlot:
    rep_id: int
    name: str
    team_id: int | None
    weight: int = 1
    received: int = 0
    open_leads: int = 0
    cap: int | None = None
    away: str = ""  # why the rep takes nothing now ("out of office until …"); empty: available

    @property
    def load(self) -> float:
        return (self.received + 1) / self.weight

    @property
    def full(self) -> bool:
        return self.cap is not None and self.open_leads >= self.cap

    def unavailable_because(self) -> str:
        if self.away:
            return self.away
        if self.full:
            return f"at cap {self.open_leads}/{self.cap} open leads"
        return ""


@dataclass
class Choice:
    rep_id: int | None
    explanation: str


@dataclass
class Allocator:
    """Hands out leads one at a time; state (received, open) advances with every choice."""

    reps: dict[int, RepSlot] = field(default_factory=dict)
    _heaps: dict[int, list[tuple[float, int]]] = field(default_factory=dict)

    @classmethod
    def of(cls, reps: Iterable[RepSlot]) -> Allocator:
        allocator = cls(reps={r.rep_id: r for r in reps})
        for rep in allocator.reps.values():
            if rep.team_id is not None and not rep.unavailable_because():
                allocator._heaps.setdefault(rep.team_id, []).append((rep.load, rep.rep_id))
        for heap in allocator._heaps.values():
            heapq.heapify(heap)
        return allocator

    def _take(self, rep: RepSlot) -> None:
        rep.received += 1
        rep.open_leads += 1

    def _skipped(self, team_id: int) -> str:
        notes = [
            f"{r.name}: {r.unavailable_because()}"
            for r in self.reps.values()
            if r.team_id == team_id and r.unavailable_because()
        ]
        if not notes:
            return ""
        more = f" and {len(notes) - 3} more" if len(notes) > 3 else ""
        return "; skipped " + ", ".join(notes[:3]) + more

    def to_team(
        self, team_id: int, team_name: str, exclude: frozenset[int] = frozenset()
    ) -> Choice:
        heap = self._heaps.get(team_id, [])
        set_aside: list[tuple[float, int]] = []
        chosen: RepSlot | None = None
        while heap:
            load, rep_id = heapq.heappop(heap)
            if rep_id in exclude:
                set_aside.append((load, rep_id))
                continue
            chosen = self.reps[rep_id]
            break
        for entry in set_aside:
            heapq.heappush(heap, entry)
        if chosen is None:
            why = "everyone available already had this lead" if set_aside else "nobody available"
            return Choice(
                None, f"team {team_name} has no available rep ({why}){self._skipped(team_id)}"
            )
        before = chosen.received
        others = len(heap)
        self._take(chosen)
        if not chosen.full:
            heapq.heappush(heap, (chosen.load, chosen.rep_id))
        explanation = (
            f"{chosen.name} had the lowest load in team {team_name}: "
            f"({before} offers + 1) / weight {chosen.weight} = {(before + 1) / chosen.weight:.2f}"
            f"; {others} other rep(s) available{self._skipped(team_id)}"
        )
        return Choice(chosen.rep_id, explanation)

    def to_rep(self, rep_id: int, exclude: frozenset[int] = frozenset()) -> Choice:
        rep = self.reps.get(rep_id)
        if rep is None:
            return Choice(None, "the named rep is not an active salesperson")
        if rep_id in exclude:
            return Choice(None, f"{rep.name} already had this lead")
        why = rep.unavailable_because()
        if why:
            return Choice(None, f"{rep.name} is {why}")
        heap = self._heaps.get(rep.team_id) if rep.team_id is not None else None
        self._take(rep)
        if heap is not None:
            # The rep's load changed: rebuild that team's heap entry (few reps per team).
            heap[:] = [
                (r.load, r.rep_id)
                for r in self.reps.values()
                if r.team_id == rep.team_id and not r.unavailable_because()
            ]
            heapq.heapify(heap)
        return Choice(rep_id, f"the rule names {rep.name}")
