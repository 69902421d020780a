"""The hand-off between marketing and sales: offers, routing rules, rep capacity, SLA clocks.

The lead's own state (offered, accepted …) lives on ``leads.Lead`` and changes only through
``leads.services.lifecycle``; the rows here record who was offered what, why, and how fast
they answered.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from leadpact.common.models import TimestampedModel
from leadpact.routing import business_time


class RejectionReason(TimestampedModel):
    """The company's list of reasons a rep may give for turning a lead down."""

    code = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class QualificationItem(TimestampedModel):
    """One line of the checklist a rep completes to turn an accepted lead into an SQL."""

    label = models.CharField(max_length=200)
    help_text = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class RoutingRule(TimestampedModel):
    """``conditions`` (all must hold) → a team (weighted round-robin) or one named rep.

    ``conditions`` is a list of ``{"field": …, "op": …, "value": …}``; the engine
    (``routing/engine/rules.py``) validates and evaluates them. Rules are tried by ``position``.
    """

    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    conditions = models.JSONField(default=list, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=False) & Q(rep__isnull=True))
                | (Q(team__isnull=True) & Q(rep__isnull=False)),
                name="routing_rule_one_target",
            )
        ]

    def __str__(self) -> str:
        return self.name


class RepAvailability(TimestampedModel):
    """How much a rep can take: round-robin weight, open-lead cap, out-of-office."""

    rep = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability"
    )
    weight = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    max_open_leads = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no cap.")
    out_of_office_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "rep availability"
        constraints = [models.CheckConstraint(condition=Q(weight__gte=1), name="rep_weight_min")]

    def __str__(self) -> str:
        return f"{self.rep} (weight {self.weight})"


class Offer(TimestampedModel):
    """One lead offered to one rep. At most one is pending per lead (a partial unique index)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="offers")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="offers"
    )
    rule_name = models.CharField(max_length=120, blank=True, help_text="As it was when offered.")
    explanation = models.CharField(max_length=500, blank=True, help_text="Why this rep.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.ForeignKey(
        RejectionReason, null=True, blank=True, on_delete=models.PROTECT, related_name="offers"
    )
    reason_text = models.CharField(max_length=300, blank=True)
    answer_business_hours = models.FloatField(
        null=True,
        blank=True,
        help_text="Business hours from offer to answer, on the calendar valid when answered "
        "(time the response clock was paused excluded).",
    )

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=Q(status="pending"), name="offer_one_pending_per_lead"
            )
        ]
        indexes = [
            models.Index(fields=["rep", "status", "offered_at"], name="offer_rep_status"),
            models.Index(fields=["lead", "offered_at"], name="offer_lead"),
        ]

    def __str__(self) -> str:
        return f"Offer of lead {self.lead_id} to {self.rep_id} ({self.status})"


class FallbackItem(TimestampedModel):
    """A lead routing could not place: it waits here for a manager, never lost."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=300)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=Q(resolved_at__isnull=True), name="fallback_one_open"
            )
        ]
        indexes = [models.Index(fields=["resolved_at", "created_at"], name="fallback_open")]


class BusinessCalendar(TimestampedModel):
    """Working hours, time zone and holidays of a team; SLA deadlines are counted in it."""

    name = models.CharField(max_length=100, unique=True)
    team = models.OneToOneField(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="calendar"
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    hours = models.JSONField(
        default=dict, help_text='{"mon": ["09:00-17:00"], …}; empty: Monday-Friday 9-17.'
    )
    holiday_country = models.CharField(max_length=2, blank=True)
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    closed_dates = models.JSONField(default=list, blank=True, help_text="ISO dates.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def to_calendar(self) -> business_time.BusinessCalendar:
        """The pure calendar that does the arithmetic (raises CalendarError when unusable)."""
        kwargs: dict[str, Any] = {
            "tz": self.time_zone,
            "country": self.holiday_country or None,
            "subdiv": self.holiday_subdivision or None,
            "closed_dates": frozenset(date.fromisoformat(d) for d in self.closed_dates or []),
        }
        if self.hours:
            kwargs["hours"] = business_time.parse_hours(self.hours)
        return business_time.BusinessCalendar(**kwargs)


class SlaPolicy(TimestampedModel):
    """A promise between the teams, measured on business-time clocks."""

    class Kind(models.TextChoices):
        OFFER_RESPONSE = "offer_response", "Offer answered within N business hours"
        FIRST_CONTACT = "first_contact", "Accepted lead contacted within N business days"
        MQL_DELIVERY = "mql_delivery", "Marketing delivers at least N MQLs per month per team"

    class Escalation(models.TextChoices):
        NONE = "none", "Notify only"
        REOFFER = "reoffer", "Re-offer to the next rep"
        NOTIFY_MANAGER = "notify_manager", "Notify the manager"
        BOTH = "both", "Re-offer and notify the manager"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: every sales team without a policy of its own.",
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text="Empty: the team's calendar, else Monday-Friday 9-17 UTC.",
    )
    amount = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text="Business hours (offer response), business days (first contact) or MQLs.",
    )
    warn_before_minutes = models.PositiveIntegerField(
        default=60, help_text="Business minutes before the deadline that the warning goes out."
    )
    escalation = models.CharField(
        max_length=20, choices=Escalation.choices, default=Escalation.NOTIFY_MANAGER
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name_plural = "SLA policies"
        constraints = [models.CheckConstraint(condition=Q(amount__gte=1), name="sla_amount_min")]

    def __str__(self) -> str:
        return self.name

    @property
    def reoffers(self) -> bool:
        return self.escalation in (self.Escalation.REOFFER, self.Escalation.BOTH)

    @property
    def notifies_manager(self) -> bool:
        return self.escalation in (self.Escalation.NOTIFY_MANAGER, self.Escalation.BOTH)


class RoutingChange(models.Model):
    """Audit trail of the hand-off's set-up: SLA policies, business calendars, routing rules,
    rep availability, rejection reasons and the qualification checklist. Who, when, what
    (``label``: its name at the time) and each field old → new."""

    class Subject(models.TextChoices):
        POLICY = "policy", "SLA policy"
        CALENDAR = "calendar", "Business calendar"
        RULE = "rule", "Routing rule"
        AVAILABILITY = "availability", "Rep availability"
        REASON = "reason", "Rejection reason"
        CHECKLIST = "checklist", "Checklist item"

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Changed"
        MOVED = "moved", "Moved"
        DELETED = "deleted", "Deleted"

    subject = models.CharField(max_length=20, choices=Subject.choices)
    object_id = models.BigIntegerField()
    label = models.CharField(max_length=200)
    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    changes = models.JSONField(default=dict, blank=True, help_text='{"field": [old, new]}')

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["subject", "changed_at"], name="routing_change_subject"),
            models.Index(fields=["subject", "object_id"], name="routing_change_object"),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.label}: {self.action}"


class SlaClock(models.Model):
    """One running promise: started on an offer / acceptance / month, met, or breached."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        MET = "met", "Met"
        BREACHED = "breached", "Breached"
        CANCELLED = "cancelled", "Cancelled"

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="clocks")
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="sla_clocks"
    )
    offer = models.ForeignKey(
        Offer, null=True, blank=True, on_delete=models.CASCADE, related_name="clocks"
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    period = models.DateField(null=True, blank=True, help_text="Month of an MQL-delivery clock.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    # Pausing stops the clock: the business time left is kept and the deadline is computed
    # again from it on resume; business time spent paused never counts against anyone.
    paused_at = models.DateTimeField(null=True, blank=True)
    # A database default too: rows inserted in bulk with raw SQL (benchmarks) leave it out.
    pause_reason = models.CharField(max_length=300, blank=True, default="", db_default="")
    remaining = models.DurationField(
        null=True, blank=True, help_text="Business time left when paused."
    )
    warn_remaining = models.DurationField(
        null=True, blank=True, help_text="Business time left to the warning when paused."
    )
    paused_total = models.DurationField(
        null=True, blank=True, help_text="Business time spent paused, over all pauses."
    )
    business_hours = models.FloatField(
        null=True,
        blank=True,
        help_text="Business hours the clock ran until met or breached, on the calendar valid "
        "at that moment (stored so that later calendar changes do not rewrite history).",
    )

    class Meta:
        ordering = ["deadline_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "offer"],
                condition=Q(offer__isnull=False),
                name="sla_clock_one_per_offer",
            ),
            models.UniqueConstraint(
                fields=["policy", "team", "period"],
                condition=Q(period__isnull=False),
                name="sla_clock_one_per_period",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "warn_at"], name="sla_clock_warn"),
            models.Index(fields=["status", "deadline_at"], name="sla_clock_deadline"),
            models.Index(fields=["offer"], name="sla_clock_offer"),
            models.Index(fields=["lead", "status"], name="sla_clock_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} clock {self.pk} ({self.status})"


class RoutingSetupStamp(models.Model):
    """One row whose ``token`` changes whenever what routing reads as its set-up changes: the
    rules, reps' availability, salespeople (active, role, team, name), teams, SLA policies and
    business calendars.

    Database triggers (migration ``0005``) write a new random token in the same transaction
    as the change, however it is made (a service, the admin, a bulk ``update()``), so a
    process that cached the set-up under the old token sees, once the change commits, that
    its copy is stale (``routing/setup.py``). A random token rather than a counter: a rolled
    back change can never make an old token current again.
    """

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token
