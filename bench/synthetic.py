"""Synthetic leads at benchmark scale (100k to 1M), fast and seeded.

Same people as the demo world (``leadpact.demo.population``: names, companies, cities and
phone numbers valid for their country) and the Olist channel mix, but drawn with numpy index
arrays so a million rows take seconds. No Django here.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from leadpact.demo.funnel import OLIST_CHANNELS, OLIST_LEAD_TYPES, OLIST_SEGMENTS
from leadpact.demo.population import (
    COUNTRIES,
    GENERIC_WORDS,
    SEGMENT_WORDS,
    TITLES,
    ascii_slug,
    phone_number,
)

CAMPAIGN_CODES: dict[str, tuple[str, ...]] = {
    "paid_search": ("google-brand", "google-sell-online"),
    "organic_search": ("seo-seller-guides",),
    "social": ("linkedin-grow-your-store", "instagram-seller-stories"),
    "email": ("newsletter", "onboarding-nurture"),
    "referral": ("partner-referrals",),
    "display": ("display-retargeting",),
    "other_publicities": ("podcast-sponsorship",),
}
PHONES_PER_COUNTRY = 300


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    phone: str
    title: str
    company_name: str
    country: str
    city: str
    channel: str
    campaign: str
    captured_at: datetime
    segment: str
    lead_type: str

    def capture_fields(self) -> dict[str, Any]:
        """The person as the body of a lead capture (API or ``lead_capture``)."""
        return {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company_name": self.company_name,
            "title": self.title,
            "phone": self.phone,
            "country": self.country,
            "city": self.city,
            "source_channel": self.channel,
            "attributes": {"segment": self.segment},
        }


class SyntheticLeads:
    """``SyntheticLeads(seed).people(n)`` yields ``n`` distinct people, newest last."""

    def __init__(self, seed: int = 1, *, days: int = 3 * 365, now: datetime | None = None):
        self.seed = seed
        self.days = days
        self.now = now or datetime.now(UTC).replace(microsecond=0)
        rng = random.Random(seed)
        self.phones = {
            c.code: [phone_number(rng, c.code) for _ in range(PHONES_PER_COUNTRY)]
            for c in COUNTRIES
        }
        self.channels = list(OLIST_CHANNELS)
        total = sum(leads for leads, _ in OLIST_CHANNELS.values())
        self.channel_p = np.array([leads / total for leads, _ in OLIST_CHANNELS.values()])
        self.segments = list(OLIST_SEGMENTS)
        self.segment_p = _probabilities(OLIST_SEGMENTS.values())
        self.lead_types = list(OLIST_LEAD_TYPES)
        self.lead_type_p = _probabilities(OLIST_LEAD_TYPES.values())
        self.country_p = _probabilities(c.weight for c in COUNTRIES)
        self.titles = [t for t, _ in TITLES]
        self.title_p = _probabilities(w for _, w in TITLES)
        self._slugs: dict[str, str] = {}

    def _slug(self, text: str) -> str:
        slug = self._slugs.get(text)
        if slug is None:
            slug = self._slugs[text] = ascii_slug(text)
        return slug

    def people(self, n: int, *, start: int = 0) -> Iterator[Person]:
        g = np.random.default_rng([self.seed, start])
        country = g.choice(len(COUNTRIES), n, p=self.country_p)
        channel = g.choice(len(self.channels), n, p=self.channel_p)
        segment = g.choice(len(self.segments), n, p=self.segment_p)
        lead_type = g.choice(len(self.lead_types), n, p=self.lead_type_p)
        title = g.choice(len(self.titles), n, p=self.title_p)
        picks = g.integers(0, 1 << 30, size=(n, 6))
        # growth: newer days are more likely (the square root of a uniform leans to 1)
        age_seconds = ((1 - np.sqrt(g.random(n))) * self.days * 86400).astype(np.int64)
        has_phone = g.random(n) < 0.85
        has_campaign = g.random(n) < 0.85
        for i in range(n):
            c = COUNTRIES[country[i]]
            p = picks[i]
            first = c.first_names[p[0] % len(c.first_names)]
            last = c.last_names[p[1] % len(c.last_names)]
            seg = self.segments[segment[i]]
            trade = SEGMENT_WORDS.get(seg, GENERIC_WORDS)[c.language]
            base = f"{c.prefixes[p[2] % len(c.prefixes)]} {trade}"
            company = f"{base} {c.suffixes[p[3] % len(c.suffixes)]}"
            chan = self.channels[channel[i]]
            codes = CAMPAIGN_CODES.get(chan, ())
            number = start + i
            yield Person(
                first_name=first,
                last_name=last,
                email=f"{self._slug(first)}.{self._slug(last)}.{number}@{self._slug(base)}.{c.tld}",
                phone=self.phones[c.code][p[4] % PHONES_PER_COUNTRY] if has_phone[i] else "",
                title=self.titles[title[i]],
                company_name=company,
                country=c.name,
                city=c.cities[p[5] % len(c.cities)],
                channel=chan,
                campaign=codes[p[5] % len(codes)] if codes and has_campaign[i] else "",
                captured_at=self.now - timedelta(seconds=int(age_seconds[i])),
                segment=seg,
                lead_type=self.lead_types[lead_type[i]],
            )


def _probabilities(weights) -> np.ndarray:
    values = np.array(list(weights), dtype=float)
    return values / values.sum()


# --- a CSV file to import ------------------------------------------------------------------

CSV_COLUMNS = (
    "Email",
    "First Name",
    "Last Name",
    "Company",
    "Job Title",
    "Phone",
    "Country",
    "City",
    "Channel",
    "Campaign",
    "Created",
    "Segment",
    "Lead Type",
)
CSV_MAPPING = {
    "encoding": "utf-8",
    "delimiter": ",",
    "columns": {
        "Email": "email",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Company": "company_name",
        "Job Title": "title",
        "Phone": "phone",
        "Country": "country",
        "City": "city",
        "Channel": "source_channel",
        "Campaign": "campaign",
        "Created": "captured_at",
        "Segment": "attribute:segment",
        "Lead Type": "attribute:lead_type",
    },
    "required": ["email"],
    "campaigns": {"code": "{value}", "name": "{value}", "create_missing": True},
}
INVALID_SHARE = 0.02  # bad e-mail, bad phone, formula, future date, no e-mail
DUPLICATE_SHARE = 0.03  # the same e-mail again further down, with a new title


def write_csv(path: Path, rows: int, *, seed: int = 1) -> dict[str, int]:
    """Write ``rows`` data rows; returns how many are meant invalid and in-file duplicates."""
    rng = random.Random(seed)
    counts = {"rows": rows, "invalid": 0, "duplicates": 0}
    earlier: list[list[str]] = []
    future = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for person in SyntheticLeads(seed).people(rows):
            row = [
                person.email,
                person.first_name,
                person.last_name,
                person.company_name,
                person.title,
                person.phone,
                person.country,
                person.city,
                person.channel,
                person.campaign,
                person.captured_at.isoformat(),
                person.segment,
                person.lead_type,
            ]
            roll = rng.random()
            if roll < INVALID_SHARE:
                counts["invalid"] += 1
                spoil = rng.randrange(5)
                if spoil == 0:
                    row[0] = row[0].replace("@", " at ")
                elif spoil == 1:
                    row[5] = "12"
                elif spoil == 2:
                    row[4] = '=HYPERLINK("http://evil.example","click")'
                elif spoil == 3:
                    row[10] = future
                else:
                    row[0] = ""
            elif roll < INVALID_SHARE + DUPLICATE_SHARE and earlier:
                counts["duplicates"] += 1
                row = list(rng.choice(earlier))
                row[4] = rng.choice(("Owner", "Head of E-commerce", "Director"))
            elif len(earlier) < 5000:
                earlier.append(row)
            writer.writerow(row)
    return counts
