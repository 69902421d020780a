"""The demo company's marketing year: a dozen campaigns and two public web forms.

Dates are days before the day the demo is built, so the world always ends today. Costs are
what a mid-sized marketplace would spend to recruit sellers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CampaignPlan:
    code: str
    name: str
    channel: str
    owner: str  # a marketer's username
    cost: Decimal
    starts: int  # days before today
    ends: int  # days before today (0 = still running)
    utm_source: str
    utm_medium: str
    description: str
    weight: float = 1.0  # share of its channel's leads while it runs


CAMPAIGNS: tuple[CampaignPlan, ...] = (
    CampaignPlan(
        "google-brand",
        "Google Ads: Brand",
        "paid_search",
        "maria",
        Decimal("18000"),
        365,
        0,
        "google",
        "cpc",
        "Brand keywords; always on.",
        1.0,
    ),
    CampaignPlan(
        "google-sell-online",
        "Google Ads: Sell online",
        "paid_search",
        "maria",
        Decimal("42000"),
        300,
        30,
        "google",
        "cpc",
        "Generic 'sell online' and 'marketplace for sellers' keywords.",
        1.6,
    ),
    CampaignPlan(
        "seo-seller-guides",
        "SEO: Seller guides hub",
        "organic_search",
        "tom",
        Decimal("9500"),
        365,
        0,
        "google",
        "organic",
        "Content hub of guides for small sellers; cost is writing.",
        1.0,
    ),
    CampaignPlan(
        "linkedin-grow-your-store",
        "LinkedIn: Grow your store",
        "social",
        "tom",
        Decimal("21000"),
        270,
        60,
        "linkedin",
        "paid_social",
        "Sponsored content aimed at e-commerce managers.",
        1.0,
    ),
    CampaignPlan(
        "instagram-seller-stories",
        "Instagram: Seller stories",
        "social",
        "tom",
        Decimal("14000"),
        150,
        0,
        "instagram",
        "paid_social",
        "Reels of sellers who grew on the marketplace.",
        1.3,
    ),
    CampaignPlan(
        "newsletter",
        "Monthly seller newsletter",
        "email",
        "maria",
        Decimal("3000"),
        365,
        0,
        "newsletter",
        "email",
        "Monthly tips and marketplace news.",
        1.0,
    ),
    CampaignPlan(
        "onboarding-nurture",
        "Onboarding nurture drip",
        "email",
        "maria",
        Decimal("1200"),
        200,
        0,
        "automation",
        "email",
        "Five-mail sequence for leads below the MQL threshold.",
        0.8,
    ),
    CampaignPlan(
        "partner-referrals",
        "Partner referral programme",
        "referral",
        "tom",
        Decimal("12000"),
        330,
        0,
        "partners",
        "referral",
        "Accountants and logistics partners refer sellers; cost is the payouts.",
        1.0,
    ),
    CampaignPlan(
        "display-retargeting",
        "Display retargeting",
        "display",
        "maria",
        Decimal("8000"),
        240,
        20,
        "gdn",
        "display",
        "Retargeting visitors of the pricing page.",
        1.0,
    ),
    CampaignPlan(
        "podcast-sponsorship",
        "E-commerce podcast sponsorship",
        "other_publicities",
        "tom",
        Decimal("6500"),
        180,
        90,
        "podcast",
        "audio",
        "Three months of host-read ads.",
        1.0,
    ),
    CampaignPlan(
        "webinar-marketplace-growth",
        "Quarterly webinar: marketplace growth",
        "webinar",
        "maria",
        Decimal("4000"),
        330,
        10,
        "zoom",
        "webinar",
        "Quarterly live session with a Q&A; registrants become leads.",
        1.0,
    ),
    CampaignPlan(
        "trade-show-ecommerce",
        "E-commerce trade show, São Paulo",
        "event",
        "tom",
        Decimal("25000"),
        120,
        117,
        "event",
        "offline",
        "Booth at the national e-commerce fair; badge scans imported.",
        1.0,
    ),
)


@dataclass(frozen=True)
class FormPlan:
    key: str
    name: str
    channel: str
    campaign: str  # a campaign code, or ""
    submissions_share: float  # share of leads of its channel said to have come through it


FORMS: tuple[FormPlan, ...] = (
    FormPlan("seller-signup", "Become a seller (website)", "organic_search", "", 0.6),
    FormPlan(
        "webinar-registration",
        "Webinar registration",
        "webinar",
        "webinar-marketplace-growth",
        1.0,
    ),
)
