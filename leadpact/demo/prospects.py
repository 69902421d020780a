"""The demo's leads before they reach the database: who they are, where they came from, when.

``ProspectMaker`` draws each lead's person, company, channel, campaign and first contact from
the Olist-shaped funnel and the demo's campaigns, then its journey through the lifecycle.
Pure Python driven by one seeded ``random.Random``, so the same seed gives the same world.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from leadpact.demo.campaigns import CAMPAIGNS, CampaignPlan
from leadpact.demo.funnel import CloseRates, Funnel
from leadpact.demo.journeys import DaysToWin, Journey, JourneyMaker
from leadpact.demo.population import (
    COUNTRIES,
    GENERIC_WORDS,
    SEGMENT_WORDS,
    TITLES,
    Country,
    ascii_slug,
    phone_number,
)
from leadpact.demo.staff import ACCOUNT_EXECUTIVES, MANAGER, MARKETERS, SDRS
from leadpact.leads.normalize import company_key

YEAR_DAYS = 365
GROWTH = 1.0  # the newest week sees (1 + GROWTH) times the leads of a year ago, as on Olist
P_WORK_EMAIL = 0.65
P_PHONE = 0.85
P_SAME_COMPANY = 0.2  # a colleague of an earlier lead
P_CAMPAIGN = 0.85  # a lead of a channel with a running campaign is attributed to it


@dataclass
class CompanyPlan:
    name: str
    key: str
    domain: str
    industry: str
    country: str


@dataclass
class Prospect:
    index: int
    raw: dict[str, Any]  # input for clean_lead_input
    company: CompanyPlan
    country: Country
    captured_at: datetime
    channel: str
    campaign: str  # campaign code or ""
    segment: str
    journey: Journey
    duplicate_of: int | None = None
    form: str = ""  # web form key the lead came through, if any


class ProspectMaker:
    def __init__(self, rng: random.Random, funnel: Funnel, now: datetime) -> None:
        self.rng = rng
        self.funnel = funnel
        self.now = now
        self.today = now.date()
        self.close_rates = CloseRates(funnel)
        self.journeys = JourneyMaker(
            rng,
            days_to_win=DaysToWin(funnel.days_to_win),
            sdrs=SDRS,
            account_executives=ACCOUNT_EXECUTIVES,
            manager=MANAGER,
            marketers=MARKETERS,
        )
        shares = funnel.channel_share()
        self._channels = list(shares)
        self._channel_weights = list(shares.values())
        self._day_weights = [
            funnel.weekdays[(self.today - timedelta(days=ago)).weekday()]
            * (1 + GROWTH * (1 - ago / YEAR_DAYS))
            for ago in range(YEAR_DAYS)
        ]
        self._companies: dict[str, list[CompanyPlan]] = {c.code: [] for c in COUNTRIES}
        self._emails: set[str] = set()
        self._segments = list(funnel.segments)
        self._segment_weights = list(funnel.segments.values())

    # --- one lead --------------------------------------------------------------------------
    def make(self, index: int) -> Prospect:
        rng = self.rng
        captured_at = self._captured_at()
        channel = rng.choices(self._channels, self._channel_weights)[0]
        campaign = self._campaign_for(channel, captured_at.date())
        country = rng.choices(COUNTRIES, [c.weight for c in COUNTRIES])[0]
        segment = rng.choices(self._segments, self._segment_weights)[0]
        company = self._company(country, segment)
        first, last = rng.choice(country.first_names), rng.choice(country.last_names)
        title = rng.choices([t for t, _ in TITLES], [w for _, w in TITLES])[0]
        form = "seller-signup" if channel == "organic_search" and rng.random() < 0.6 else ""
        raw: dict[str, Any] = {
            "first_name": first,
            "last_name": last,
            "email": self._email(first, last, company, country),
            "phone": phone_number(rng, country.code) if rng.random() < P_PHONE else "",
            "title": title,
            "company_name": company.name,
            "country": country.name,
            "city": rng.choice(country.cities),
            "source_channel": channel,
            "source_detail": "Web form: Become a seller" if form else self._landing(segment),
            "campaign": campaign,
            "captured_at": captured_at,
            "attributes": {
                "segment": segment,
                "lead_type": self._pick(self.funnel.lead_types),
                "business_type": self._pick(self.funnel.business_types),
            },
        }
        age_days = (self.now - captured_at).total_seconds() / 86400
        journey = self.journeys.make(
            close_rate=self.close_rates.close_rate(channel, raw["attributes"]),
            age_days=age_days,
            segment=segment,
        )
        return Prospect(
            index=index,
            raw=raw,
            company=company,
            country=country,
            captured_at=captured_at,
            channel=channel,
            campaign=campaign,
            segment=segment,
            journey=journey,
            form=form,
        )

    def duplicate(self, index: int, original: Prospect) -> Prospect:
        """The same person arriving again: a nickname or typo, another spelling of the company,
        a personal e-mail, weeks later, still new."""
        rng = self.rng
        raw = dict(original.raw)
        raw["first_name"] = name_variant(rng, raw["first_name"])
        raw["company_name"] = company_variant(original.company)
        raw["email"] = self._unique(
            f"{ascii_slug(raw['first_name'])}{ascii_slug(raw['last_name'])}"
            f"@{rng.choice(original.country.free_mail)}"
        )
        later = original.captured_at + timedelta(days=rng.uniform(5, 60))
        captured_at = min(later, self.now - timedelta(minutes=rng.uniform(5, 600)))
        raw["captured_at"] = captured_at
        raw["source_channel"] = "direct_traffic"
        raw["campaign"] = ""
        raw["source_detail"] = "Web form: Become a seller"
        raw["attributes"] = dict(original.raw["attributes"])
        journey = Journey(score=max(0, original.journey.score - rng.randint(5, 20)))
        return Prospect(
            index=index,
            raw=raw,
            company=original.company,
            country=original.country,
            captured_at=captured_at,
            channel="direct_traffic",
            campaign="",
            segment=original.segment,
            journey=journey,
            duplicate_of=original.index,
            form="seller-signup",
        )

    # --- pieces ----------------------------------------------------------------------------
    def _captured_at(self) -> datetime:
        rng = self.rng
        ago = rng.choices(range(YEAR_DAYS), self._day_weights)[0]
        day = self.today - timedelta(days=ago)
        hour = min(23.9, max(0.0, rng.gauss(13.0, 3.5)))
        moment = datetime.combine(day, datetime.min.time(), tzinfo=self.now.tzinfo) + timedelta(
            hours=hour
        )
        fallback = self.now - timedelta(minutes=rng.uniform(1, 240))  # drawn always: same stream
        return fallback if moment >= self.now else moment

    def _campaign_for(self, channel: str, day: date) -> str:
        running = [c for c in CAMPAIGNS if c.channel == channel and self.runs(c, day)]
        if not running or self.rng.random() > P_CAMPAIGN:
            return ""
        return self.rng.choices(running, [c.weight for c in running])[0].code

    def runs(self, campaign: CampaignPlan, day: date) -> bool:
        starts = self.today - timedelta(days=campaign.starts)
        ends = self.today - timedelta(days=campaign.ends)
        return starts <= day <= ends

    def _company(self, country: Country, segment: str) -> CompanyPlan:
        rng = self.rng
        known = self._companies[country.code]
        if known and rng.random() < P_SAME_COMPANY:
            return rng.choice(known)
        words = SEGMENT_WORDS.get(segment, GENERIC_WORDS)
        trade = words.get(country.language, words["en"])
        base = f"{rng.choice(country.prefixes)} {trade}"
        name = f"{base} {rng.choice(country.suffixes)}"
        key = company_key(name)
        for plan in known:
            if plan.key == key:
                return plan
        plan = CompanyPlan(
            name=name,
            key=key,
            domain=f"{ascii_slug(base)}.{country.tld}",
            industry=segment.replace("_", " "),
            country=country.name,
        )
        known.append(plan)
        return plan

    def _email(self, first: str, last: str, company: CompanyPlan, country: Country) -> str:
        rng = self.rng
        f, la = ascii_slug(first), ascii_slug(last)
        if rng.random() < P_WORK_EMAIL:
            local = rng.choice((f"{f}.{la}", f"{f[0]}{la}", f, f"{f}{la[0]}"))
            return self._unique(f"{local}@{company.domain}")
        return self._unique(f"{f}.{la}{rng.randint(1, 99)}@{rng.choice(country.free_mail)}")

    def _unique(self, email: str) -> str:
        local, domain = email.split("@", 1)
        candidate, n = email, 1
        while candidate in self._emails:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self._emails.add(candidate)
        return candidate

    def _landing(self, segment: str) -> str:
        return f"/sell-online/{segment.replace('_', '-')}"

    def _pick(self, counts: dict[str, int]) -> str:
        return self.rng.choices(list(counts), list(counts.values()))[0]


NICKNAMES = {
    "William": "Bill",
    "Robert": "Bob",
    "Christopher": "Chris",
    "Matthew": "Matt",
    "Daniel": "Dan",
    "Alejandro": "Alex",
    "Francisco": "Chico",
    "Maximilian": "Max",
    "Katharina": "Kathi",
    "Guadalupe": "Lupita",
    "Fernanda": "Nanda",
    "Gabriel": "Gabi",
    "Rafael": "Rafa",
    "Jennifer": "Jen",
    "Thomas": "Tom",
    "Nicole": "Nikki",
}


def name_variant(rng: random.Random, name: str) -> str:
    """A nickname, the name without accents, or a one-letter slip."""
    if name in NICKNAMES:
        return NICKNAMES[name]
    plain = ascii_slug(name).capitalize()
    if plain != name:
        return plain
    if len(name) > 3:
        i = rng.randrange(1, len(name) - 2)
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name


def company_variant(company: CompanyPlan) -> str:
    """The same company written another way: no legal suffix, or upper case."""
    words = company.name.split()
    if len(words) > 2:
        return " ".join(words[:-1])
    return company.name.upper()
