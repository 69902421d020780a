"""The marketing touches of a demo lead: the capture itself, then page views, e-mail clicks,
ad clicks, form fills and webinars from the campaigns running at the time.

Worked leads were touched more than leads that never got past new, and the leads that were won
showed more intent along the way (webinars, form fills, e-mail clicks) than those lost, which is
what engagement scoring (the points learned per touch kind) and multi-touch attribution should
find in the data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from leadpact.campaigns.models import TouchKind
from leadpact.demo.campaigns import CAMPAIGNS, CampaignPlan
from leadpact.demo.prospects import Prospect, ProspectMaker
from leadpact.leads.models import LeadState

SITE = "https://www.sellwithus.example"
MAX_TOUCHES = 8
EXTRA_KINDS: dict[str, float] = {
    TouchKind.PAGE_VIEW: 0.35,
    TouchKind.EMAIL_CLICK: 0.25,
    TouchKind.AD_CLICK: 0.15,
    TouchKind.FORM_FILL: 0.10,
    TouchKind.WEBINAR: 0.15,
}
#: Buyers who end up winning come back for the webinar and the sign-up form more than the rest.
WON_KINDS: dict[str, float] = {
    TouchKind.PAGE_VIEW: 0.15,
    TouchKind.EMAIL_CLICK: 0.25,
    TouchKind.AD_CLICK: 0.10,
    TouchKind.FORM_FILL: 0.20,
    TouchKind.WEBINAR: 0.30,
}
AD_CHANNELS = ("paid_search", "social", "display")
SEARCH_TERMS = ("sell online", "marketplace for sellers", "marketplace fees", "open online store")
FIRST_TOUCH_KIND = {
    "paid_search": TouchKind.AD_CLICK,
    "social": TouchKind.AD_CLICK,
    "display": TouchKind.AD_CLICK,
    "email": TouchKind.EMAIL_CLICK,
}
REFERRERS = {
    "organic_search": "https://www.google.com/",
    "social": "https://www.linkedin.com/",
    "referral": "https://partners.example.org/",
    "other_publicities": "https://podcasts.example.net/",
}


@dataclass
class TouchPlan:
    kind: str
    occurred_at: datetime
    channel: str
    campaign: str  # code or ""
    utm: dict[str, str] = field(default_factory=dict)
    url: str = ""
    referrer: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class TouchMaker:
    def __init__(self, rng: random.Random, prospects: ProspectMaker) -> None:
        self.rng = rng
        self.prospects = prospects
        self.by_code = {c.code: c for c in CAMPAIGNS}
        self.now = prospects.now

    def make(self, prospect: Prospect) -> list[TouchPlan]:
        rng = self.rng
        first_kind = FIRST_TOUCH_KIND.get(prospect.channel, TouchKind.FORM_FILL)
        if prospect.form:
            first_kind = TouchKind.FORM_FILL
        touches = [
            self._touch(
                first_kind,
                prospect.captured_at,
                prospect.channel,
                self.by_code.get(prospect.campaign),
                prospect,
                form=prospect.form,
            )
        ]
        state = prospect.journey.state
        worked = state not in (LeadState.NEW, LeadState.DISQUALIFIED)
        won = state == LeadState.WON
        if won:
            extra = rng.randint(2, MAX_TOUCHES - 1)
        elif worked:
            extra = rng.randint(1, MAX_TOUCHES - 3)
        else:
            extra = rng.choice((0, 0, 1, 1, 2))
        weights = WON_KINDS if won else EXTRA_KINDS
        horizon = min(
            self.now, prospect.captured_at + timedelta(days=prospect.journey.last_day + 21)
        )
        span = max(60.0, (horizon - prospect.captured_at).total_seconds())
        moments = sorted(
            prospect.captured_at + timedelta(seconds=rng.uniform(60, span)) for _ in range(extra)
        )
        for moment in moments:
            if moment > self.now:
                continue
            kind = rng.choices(list(weights), list(weights.values()))[0]
            touches.append(self._extra(kind, moment, prospect))
        return touches

    def _extra(self, kind: str, moment: datetime, prospect: Prospect) -> TouchPlan:
        rng = self.rng
        day = moment.date()
        if kind == TouchKind.WEBINAR:
            webinar = self.by_code["webinar-marketplace-growth"]
            if self.prospects.runs(webinar, day):
                return self._touch(kind, moment, "webinar", webinar, prospect)
            kind = TouchKind.PAGE_VIEW
        if kind == TouchKind.EMAIL_CLICK:
            campaign = self._running(("email",), day)
            if campaign:
                return self._touch(kind, moment, "email", campaign, prospect)
            kind = TouchKind.PAGE_VIEW
        if kind == TouchKind.AD_CLICK:
            campaign = self._running(AD_CHANNELS, day)
            if campaign:
                return self._touch(kind, moment, campaign.channel, campaign, prospect)
            kind = TouchKind.PAGE_VIEW
        if kind == TouchKind.FORM_FILL:
            campaign = self.by_code.get(prospect.campaign)
            return self._touch(kind, moment, prospect.channel, campaign, prospect)
        if rng.random() < 0.5:
            seo = self.by_code["seo-seller-guides"]
            if self.prospects.runs(seo, day):
                return self._touch(kind, moment, "organic_search", seo, prospect)
        return self._touch(kind, moment, "direct_traffic", None, prospect)

    def _running(self, channels: tuple[str, ...], day: date) -> CampaignPlan | None:
        running = [c for c in CAMPAIGNS if c.channel in channels and self.prospects.runs(c, day)]
        return self.rng.choice(running) if running else None

    def _touch(
        self,
        kind: str,
        moment: datetime,
        channel: str,
        campaign: CampaignPlan | None,
        prospect: Prospect,
        *,
        form: str = "",
    ) -> TouchPlan:
        rng = self.rng
        utm: dict[str, str] = {}
        if campaign is not None:
            utm = {
                "utm_source": campaign.utm_source,
                "utm_medium": campaign.utm_medium,
                "utm_campaign": campaign.code,
            }
            if campaign.channel == "paid_search":
                utm["utm_term"] = rng.choice(SEARCH_TERMS)
            if campaign.channel in AD_CHANNELS:
                utm["utm_content"] = rng.choice(("variant-a", "variant-b"))
        path = {
            TouchKind.WEBINAR: "/webinars/marketplace-growth",
            TouchKind.FORM_FILL: "/sell-online/sign-up",
            TouchKind.EMAIL_CLICK: "/blog/seller-tips",
        }.get(kind, prospect.raw["source_detail"] if not form else "/sell-online/sign-up")
        data: dict[str, Any] = {}
        if form:
            data["form"] = form
        elif kind == TouchKind.WEBINAR:
            data["form"] = "webinar-registration"
        return TouchPlan(
            kind=kind,
            occurred_at=moment,
            channel=channel,
            campaign=campaign.code if campaign else "",
            utm=utm,
            url=SITE + (path if path.startswith("/") else "/sell-online"),
            referrer=REFERRERS.get(channel, ""),
            data=data,
        )
