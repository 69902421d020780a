"""The lead profile: the one agreed, versioned definition of a good lead (a pact).

A version holds the fit scorecard (attributes, bins, points, as the engine's JSON), the
engagement rules and the MQL threshold. It moves draft → proposed → approved (one marketing and
one sales-manager approval, neither by its author) → live → retired. At most one version is
live (a partial unique constraint). An approved version may be *scheduled*: it waits until its
``effective_from`` and a periodic job puts it live. ``ProfileEvent`` is the audit trail: who did
what, when. ``RescoreRun`` is the chunked rescoring of every open lead that going live (or the
periodic decay) starts: a cursor over lead ids, advanced one committed chunk at a time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from leadpact.common.models import TimestampedModel


class ProfileStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    LIVE = "live", "Live"
    RETIRED = "retired", "Retired"


class LeadProfile(TimestampedModel):
    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=20, choices=ProfileStatus.choices, default=ProfileStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scorecard = models.JSONField(
        default=dict, help_text="The engine's compiled scorecard spec (points per bin)."
    )
    engagement_rules = models.JSONField(
        default=list, help_text="Points, half-life and cap per touch kind."
    )
    threshold = models.IntegerField(help_text="Score at or above which a lead becomes an MQL.")
    report = models.JSONField(
        default=dict, blank=True, help_text="The engine's validation report of the fit."
    )
    source = models.CharField(max_length=200, blank=True, help_text="What it was fitted from.")
    effective_from = models.DateTimeField(null=True, blank=True)
    effective_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="live"), name="one_live_profile"
            ),
        ]

    def __str__(self) -> str:
        return f"Profile v{self.version} ({self.get_status_display().lower()})"


class ProfileEvent(models.Model):
    """The audit trail of a profile version; approvals are the ``approved`` rows."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Sent back to draft"
        SCHEDULED = "scheduled", "Scheduled to go live"
        WENT_LIVE = "went_live", "Went live"
        RESCORED = "rescored", "Open leads rescored"
        RETIRED = "retired", "Retired"

    profile = models.ForeignKey(LeadProfile, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["profile", "action"], name="profile_event_action")]

    def __str__(self) -> str:
        return f"v{self.profile_id} {self.action} by {self.actor}"


class RescoreRun(TimestampedModel):
    """Rescoring every open lead with one profile, in chunks of leads ordered by id.

    ``after_id`` is the cursor: every open lead with a smaller or equal id is done. Each chunk
    is scored, written and the cursor advanced in one transaction, so a run that stops (a
    worker lost) resumes where it was, and two workers never score the same chunk twice. At
    most one run is running; a newer profile going live supersedes it.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        SUPERSEDED = "superseded", "Superseded"

    profile = models.ForeignKey(LeadProfile, on_delete=models.CASCADE, related_name="rescores")
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    as_of = models.DateTimeField(help_text="The moment engagement decays to, for every chunk.")
    after_id = models.BigIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    became_mql = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="running"), name="one_running_rescore"
            ),
        ]

    def __str__(self) -> str:
        return f"Rescore with v{self.profile_id} ({self.status}, after lead {self.after_id})"


class FitRun(TimestampedModel):
    """Fitting a draft version in the background, from the system's own closed leads or from
    an uploaded history CSV (kept under the media folder until the fit is done). A fit of a
    large history takes minutes; the person who asked gets a notification either way, and the
    versions page lists the runs with their outcome."""

    class Source(models.TextChoices):
        HISTORY = "history", "Own closed leads"
        CSV = "csv", "Uploaded CSV"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    options = models.JSONField(default=dict, blank=True)
    file_path = models.CharField(max_length=500, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    profile = models.ForeignKey(
        LeadProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Fit {self.pk} from {self.source} ({self.status})"
