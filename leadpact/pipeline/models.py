"""The sales process (pipelines, stages, lost reasons) and the deals that move through it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from leadpact.common.models import TimestampedModel


class Pipeline(TimestampedModel):
    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return self.name


class Stage(TimestampedModel):
    """One step of a pipeline. ``exit_criteria`` are what the rep confirms when leaving it."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField()
    probability = models.PositiveSmallIntegerField(help_text="Default win probability, percent.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OPEN)
    exit_criteria = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != self.Kind.OPEN


class LostReason(TimestampedModel):
    label = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    CLOSED = "closed", "Closed"
    OMITTED = "omitted", "Omitted"


class Deal(TimestampedModel):
    """An opportunity: from a lead sales accepted (``lead`` kept, with its touches) or direct.

    ``version`` is the optimistic lock: every change names the version it was made from and a
    stale one is refused, so two people editing at once never overwrite each other silently.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    name = models.CharField(max_length=200)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    lead = models.OneToOneField(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="deal"
    )
    company = models.ForeignKey(
        "leads.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    account_name = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    close_date = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals"
    )
    forecast_category = models.CharField(
        max_length=20, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    source_channel = models.CharField(max_length=50, blank=True)
    lead_score = models.IntegerField(default=0)
    stage_entered_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.ForeignKey(
        LostReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_activity_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["close_date", "id"]
        indexes = [
            models.Index(fields=["status", "stage", "close_date", "id"], name="deal_board"),
            models.Index(fields=["owner", "status", "close_date"], name="deal_owner"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def account(self) -> str:
        return self.company.name if self.company_id and self.company else self.account_name


class DealEvent(models.Model):
    """The deal's own timeline: creation, stage moves, amount and field changes, who and when.

    A creation or stage move also names its stages as columns (``stage``: the stage entered,
    ``from_stage``: the stage left), the same ids as in ``data``, so the pipeline review reads
    the stage entries of a window from one covering index instead of from the JSON. The
    services that create and move deals write both. Like ``data`` they keep the id of a stage
    deleted since (no database constraint), so a deal's history reads the same after a change
    of the sales process."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STAGE = "stage", "Stage change"
        AMOUNT = "amount", "Amount change"
        FIELD = "field", "Field change"
        ACTIVITY = "activity", "Activity"

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    stage = models.ForeignKey(
        Stage,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,  # read through ``dealevent_entry``
        help_text="The stage entered: created in, or moved to.",
    )
    from_stage = models.ForeignKey(
        Stage,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,
        help_text="The stage left by a stage move.",
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["deal", "occurred_at", "id"], name="dealevent_deal"),
            models.Index(fields=["kind", "occurred_at"], name="dealevent_kind"),
            # The stage entries of a time window, read without touching the table (PostgreSQL
            # covers the listed columns; elsewhere a plain partial index on the time).
            models.Index(
                fields=["occurred_at"],
                include=["deal", "stage", "from_stage", "kind"],
                condition=Q(stage__isnull=False),
                name="dealevent_entry",
            ),
        ]

    def __str__(self) -> str:
        return self.summary


class Activity(TimestampedModel):
    """A call, e-mail or meeting logged in one click, with an optional next step and due date."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "E-mail"
        MEETING = "meeting", "Meeting"

    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    outcome = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    next_step = models.CharField(max_length=200, blank=True)
    next_step_due = models.DateField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_step_due"],
                name="activity_reminder_due",
                condition=Q(reminded_at__isnull=True, next_step_due__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(deal__isnull=False) | Q(lead__isnull=False), name="activity_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.outcome}"


# --- quotas, targets and the forecast's history -----------------------------------------------


class PeriodKind(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class Quota(TimestampedModel):
    """A target for one period (a calendar month or quarter).

    * ``revenue``: closed-won revenue of a rep (``rep``) or a sales team (``team``), in
      ``currency``;
    * ``mqls``: leads that became marketing qualified in the period (company-wide, no currency);
    * ``marketing_pipeline``: the amount of deals opened from marketing's leads in the period
      (company-wide, in ``currency``).

    One row per (kind, scope, period): setting it again updates ``target`` (``set_by`` and
    ``updated_at`` say who and when). A quota of a rep who has since left stays, shown as such.
    """

    class Kind(models.TextChoices):
        REVENUE = "revenue", "Revenue (closed won)"
        MQLS = "mqls", "MQLs"
        MARKETING_PIPELINE = "marketing_pipeline", "Marketing-sourced pipeline"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quotas",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="quotas"
    )
    period_kind = models.CharField(max_length=10, choices=PeriodKind.choices)
    start = models.DateField()
    end = models.DateField()
    target = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-start", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "rep", "start", "end"],
                condition=Q(rep__isnull=False),
                name="quota_rep_period_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "team", "start", "end"],
                condition=Q(team__isnull=False),
                name="quota_team_period_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "start", "end"],
                condition=Q(rep__isnull=True, team__isnull=True),
                name="quota_company_period_unique",
            ),
            models.CheckConstraint(
                condition=Q(rep__isnull=True) | Q(team__isnull=True), name="quota_one_scope"
            ),
            models.CheckConstraint(condition=Q(target__gte=0), name="quota_target_positive"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="quota_period"),
        ]
        indexes = [models.Index(fields=["kind", "start", "end"], name="quota_period")]

    def __str__(self) -> str:
        who = self.rep or self.team or "Company"
        return f"{self.get_kind_display()} {who} {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"


class ForecastAdjustment(TimestampedModel):
    """A manager's own call for a rep's period, recorded beside the rep's commit / best case."""

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="forecast_adjustments"
    )
    start = models.DateField()
    end = models.DateField()
    currency = models.CharField(max_length=3)
    commit = models.DecimalField(max_digits=14, decimal_places=2)
    best_case = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.TextField(blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-start", "rep", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rep", "start", "end", "currency"], name="adjustment_rep_period_unique"
            ),
            models.CheckConstraint(condition=Q(commit__gte=0), name="adjustment_commit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.rep} {self.start:%Y-%m-%d}: {self.commit} {self.currency}"


class ForecastSnapshot(models.Model):
    """One method's forecast for one period and scope, taken once a week.

    ``scope`` is ``company``, ``team:<id>`` or ``rep:<id>``. When the period has closed,
    ``actual`` (won revenue) and ``error`` (forecast - actual) are filled in.
    """

    class Method(models.TextChoices):
        WEIGHTED = "weighted", "Weighted pipeline"
        COMMIT = "commit", "Commit roll-up"
        BEST_CASE = "best_case", "Best case"
        MONTE_CARLO = "monte_carlo", "Monte Carlo P50"

    week = models.DateField(help_text="The Monday of the week the snapshot was taken in.")
    period_kind = models.CharField(max_length=10, choices=PeriodKind.choices)
    start = models.DateField()
    end = models.DateField()
    scope = models.CharField(max_length=30)
    method = models.CharField(max_length=20, choices=Method.choices)
    currency = models.CharField(max_length=3)
    value = models.DecimalField(max_digits=16, decimal_places=2)
    p10 = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    p90 = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    taken_at = models.DateTimeField()
    actual = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    error = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start", "scope", "method", "-week"]
        constraints = [
            models.UniqueConstraint(
                fields=["week", "start", "end", "scope", "method", "currency"],
                name="snapshot_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["scope", "start", "end"], name="snapshot_scope"),
            models.Index(fields=["end", "scored_at"], name="snapshot_unscored"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.method} {self.start:%Y-%m-%d} week {self.week:%Y-%m-%d}"
