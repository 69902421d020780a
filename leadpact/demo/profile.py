"""The demo's live lead profile, put in place the way the pact says it must be.

Marketing fits a draft from the company's own closed leads (won against lost and rejected),
proposes it, another marketer and the sales manager approve it, and it goes live: every open
lead is rescored by it (the rescore run is done here, at once, so the demo is ready when the
build ends; the background job it also starts then finds nothing left) and the ones above its
threshold become MQLs. Only the scoring app's
services are called, so the profile page shows a real points table, validation report and
audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadpact.accounts.models import User
from leadpact.scoring.models import LeadProfile
from leadpact.scoring.services.fitting import profile_fit_from_history
from leadpact.scoring.services.profiles import (
    profile_approve,
    profile_go_live,
    profile_propose,
    profile_update_draft,
)
from leadpact.scoring.services.rescoring import rescore_run_execute

#: A city names a handful of sellers each: too fine-grained to be a rule the teams agree on.
EXCLUDED = ["city"]
#: Marketing hands sales the top tenth of leads (by the history's scores), not the fit's
#: default top 30%: the sales team's queues can take that many.
TOP_SHARE = 0.10


@dataclass
class ProfileSummary:
    version: int
    attributes: list[str]
    threshold: int
    rescored: int
    new_mqls: int


def demo_profile(*, author: User, reviewer: User, manager: User) -> ProfileSummary:
    """Fit, propose, approve (marketing + sales manager) and put live the demo's profile."""
    # Engagement points are learned too: the demo's winners engaged more (webinars, forms),
    # and the profile page shows, per touch kind, the evidence each learned value rests on.
    draft = profile_fit_from_history(actor=author, exclude=EXCLUDED, learn_engagement=True)
    curve = draft.report.get("capture_curve") or []
    top = [point["score"] for point in curve if point["share_of_leads"] <= TOP_SHARE]
    if top:
        draft = profile_update_draft(profile=draft, actor=author, threshold=min(top))
    profile_propose(profile=draft, actor=author)
    profile_approve(profile=draft, actor=reviewer)
    approved = profile_approve(profile=draft, actor=manager)
    live, run = profile_go_live(profile=approved, actor=manager)  # now: never scheduled
    _, result = rescore_run_execute(run_id=run.pk) if run is not None else (None, None)
    return ProfileSummary(
        version=live.version,
        attributes=[a["attribute"] for a in live.scorecard.get("attributes", [])],
        threshold=live.threshold,
        rescored=result.scored if result is not None else 0,
        new_mqls=len(result.became_mql) if result is not None else 0,
    )


def demo_profile_reset() -> None:
    LeadProfile.objects.all().delete()
