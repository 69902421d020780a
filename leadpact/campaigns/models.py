from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from leadpact.common.models import TimestampedModel


class Campaign(TimestampedModel):
    name = models.CharField(max_length=200)
    code = models.SlugField(
        max_length=100, unique=True, help_text="Matches utm_campaign on incoming touches."
    )
    channel = models.CharField(max_length=50, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
    )
    cost = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(max_length=3, default="USD")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="campaign_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TouchKind(models.TextChoices):
    FORM_FILL = "form_fill", "Form fill"
    EMAIL_OPEN = "email_open", "E-mail open"
    EMAIL_CLICK = "email_click", "E-mail click"
    PAGE_VIEW = "page_view", "Page view"
    AD_CLICK = "ad_click", "Ad click"
    EVENT = "event", "Event"
    WEBINAR = "webinar", "Webinar"
    DOWNLOAD = "download", "Download"
    CHAT = "chat", "Chat"
    CALL = "call", "Call"
    IMPORT = "import", "Imported"
    OTHER = "other", "Other"


class Touch(models.Model):
    """One marketing interaction of a lead: the raw material of engagement scoring and attribution.

    ``idempotency_key`` makes ingestion safe to repeat. ``original_lead`` remembers the lead a
    touch first arrived on, so a merge can be undone.
    """

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="touches")
    original_lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="touches"
    )
    channel = models.CharField(max_length=50)
    kind = models.CharField(max_length=20, choices=TouchKind.choices)
    occurred_at = models.DateTimeField()
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    utm_term = models.CharField(max_length=100, blank=True)
    utm_content = models.CharField(max_length=100, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "occurred_at"]),
            models.Index(fields=["campaign", "occurred_at"]),
            models.Index(fields=["channel", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.occurred_at:%Y-%m-%d}"
