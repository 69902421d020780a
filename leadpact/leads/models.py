from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from leadpact.common.models import TimestampedModel


class LeadState(models.TextChoices):
    NEW = "new", "New"
    MQL = "mql", "Marketing qualified (MQL)"
    OFFERED = "offered", "Offered to sales"
    ACCEPTED = "accepted", "Sales accepted (SAL)"
    SQL = "sql", "Sales qualified (SQL)"
    OPPORTUNITY = "opportunity", "Opportunity"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    RECYCLED = "recycled", "Recycled to marketing"
    DISQUALIFIED = "disqualified", "Disqualified"


class Company(TimestampedModel):
    name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200, db_index=True, help_text="Normalised name.")
    domain = models.CharField(max_length=200, blank=True, db_index=True)
    industry = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        constraints = [models.UniqueConstraint(fields=["name_key"], name="company_name_key_unique")]

    def __str__(self) -> str:
        return self.name


class Lead(TimestampedModel):
    """A person marketing captured and sales may work: the spine of the system.

    Identity for dedupe: ``email_key`` (normalised e-mail) or ``(external_source, external_id)``.
    A lead merged into another keeps its row (``merged_into``) so the merge can be undone.
    ``search_key`` is the lower-cased "first last" used for prefix search. Prefix search uses
    the plain indexes of ``search_key``, ``company_key`` and ``email_key`` (on PostgreSQL Django
    adds a ``varchar_pattern_ops`` twin to each, which serves ``LIKE 'q%'`` under any collation).
    """

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    email_key = models.CharField(max_length=254, null=True, blank=True, unique=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164 when recognised.")
    title = models.CharField(max_length=150, blank=True)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    company_name = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    search_key = models.CharField(max_length=201, blank=True, db_index=True)
    company_key = models.CharField(max_length=200, blank=True, db_index=True)
    # The likely-duplicate matcher's other blocks (leads/matching.py), stored so that the scan
    # after a capture finds a new lead's neighbours through indexes (with company_key, phone).
    name_block = models.CharField(
        max_length=202, blank=True, help_text="Folded last name | company key's first letter."
    )
    email_local = models.CharField(
        max_length=254, blank=True, help_text="E-mail local part; empty for a shared mailbox."
    )

    source_channel = models.CharField(max_length=50, default="unknown")
    source_campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sourced_leads",
    )
    source_detail = models.CharField(max_length=200, blank=True)
    external_source = models.CharField(max_length=50, blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True)
    captured_at = models.DateTimeField(help_text="First contact.")

    state = models.CharField(max_length=20, choices=LeadState.choices, default=LeadState.NEW)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    score = models.IntegerField(default=0)
    attributes = models.JSONField(default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_leads",
        db_index=False,  # the partial index in Meta: a full one lures SQLite into using it
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-captured_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="lead_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["captured_at", "id"], name="lead_captured"),
            models.Index(fields=["state", "captured_at", "id"], name="lead_state_captured"),
            models.Index(fields=["owner", "captured_at", "id"], name="lead_owner_captured"),
            models.Index(fields=["source_channel", "captured_at", "id"], name="lead_chan_captured"),
            models.Index(
                fields=["source_campaign", "captured_at", "id"], name="lead_camp_captured"
            ),
            models.Index(fields=["score", "id"], name="lead_score"),
            models.Index(fields=["state", "score", "id"], name="lead_state_score"),
            # Only merged-away leads are indexed: every list query filters "merged_into IS
            # NULL", and an index over the NULLs too makes SQLite's planner walk it instead of
            # the sort index (seconds instead of milliseconds at 1M leads).
            models.Index(
                fields=["merged_into"],
                name="lead_merged_into",
                condition=Q(merged_into__isnull=False),
            ),
            models.Index(fields=["last_name", "id"], name="lead_last_name"),
            models.Index(fields=["source_channel", "score", "id"], name="lead_chan_score"),
            # Block keys of the likely-duplicate scan (with company_key's own index).
            models.Index(fields=["phone"], name="lead_phone"),
            models.Index(fields=["name_block"], name="lead_name_block"),
            models.Index(fields=["email_local"], name="lead_email_local"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.external_id or f"Lead #{self.pk}"


class TimelineEvent(models.Model):
    """Everything that happened to a lead, in order: the common lead view reads this."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        TOUCH = "touch", "Marketing touch"
        STATE_CHANGE = "state_change", "State change"
        OWNER_CHANGE = "owner_change", "Owner change"
        FIELD_CHANGE = "field_change", "Profile change"
        NOTE = "note", "Note"
        SCORE_CHANGE = "score_change", "Score change"
        ROUTING = "routing", "Routing decision"
        MERGE = "merge", "Merge"
        UNMERGE = "unmerge", "Merge undone"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    touch = models.ForeignKey(
        "campaigns.Touch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["lead", "occurred_at", "id"], name="timeline_lead_time")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.summary}"


class DuplicateCandidate(TimestampedModel):
    """Two leads that look like the same person, waiting for someone to merge or dismiss them."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MERGED = "merged", "Merged"
        DISMISSED = "dismissed", "Dismissed"

    lead_a = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    lead_b = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    similarity = models.FloatField()
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-similarity", "id"]
        constraints = [
            models.UniqueConstraint(fields=["lead_a", "lead_b"], name="duplicate_pair_unique"),
            models.CheckConstraint(condition=Q(lead_a__lt=models.F("lead_b")), name="pair_order"),
        ]
        indexes = [models.Index(fields=["status", "-similarity"], name="duplicate_status")]


class DuplicateScanQueue(models.Model):
    """A lead waiting for the likely-duplicate scan (captured, or its matched values edited).

    A queue of its own rather than a flag on the lead: the drain deletes these rows and never
    locks a lead, so routing's ``SELECT … FOR UPDATE SKIP LOCKED`` never skips a lead because a
    scan is tidying up. ``lead_id`` is a plain column (no foreign-key lock either); an id that
    no longer exists is ignored by the scan.
    """

    lead_id = models.BigIntegerField()
    queued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"scan lead #{self.lead_id}"


class WebForm(TimestampedModel):
    """A public capture form. Posts go to ``/f/<key>``."""

    name = models.CharField(max_length=200)
    key = models.SlugField(max_length=64, unique=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=50, default="direct_traffic")
    honeypot_field = models.CharField(max_length=50, default="website")
    redirect_url = models.URLField(blank=True)
    is_active = models.BooleanField(default=True)
    submissions = models.PositiveIntegerField(default=0)
    spam_blocked = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class ImportJob(TimestampedModel):
    """One CSV import: its file, mapping, progress checkpoint and outcome.

    ``processed_rows`` (data rows read so far), the counters and ``report_bytes`` (how much of
    the rejected-rows report belongs to committed chunks) are written in the same transaction
    as each chunk of leads, so a failed import resumes exactly where the last commit left it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Mapping columns"
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    original_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_size = models.BigIntegerField(default=0)
    headers = models.JSONField(default=list, blank=True, help_text="The file's header row.")
    mapping = models.JSONField(default=dict)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(
        default=0, help_text="Data rows committed so far: the resume checkpoint."
    )
    processed_bytes = models.BigIntegerField(default=0, help_text="For the progress bar.")
    created_count = models.PositiveIntegerField(default=0)
    merged_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    ignored_columns = models.JSONField(default=list, blank=True)
    report_path = models.CharField(max_length=500, blank=True)
    report_bytes = models.BigIntegerField(
        default=0, help_text="Length of the report that belongs to committed chunks."
    )
    seconds = models.FloatField(default=0, help_text="Time spent importing, over all runs.")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.original_name}"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.file_size:
            return 0
        return min(99, int(100 * self.processed_bytes / self.file_size))


class ImportMapping(TimestampedModel):
    """A saved column mapping, so the same kind of file imports the same way every time."""

    name = models.CharField(max_length=100, unique=True)
    mapping = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
