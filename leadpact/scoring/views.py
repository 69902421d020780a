"""Pages of the lead profile: the live pact, the versions and their diff, the draft editor
with its what-if, the approval buttons. Thin: parse, call one service or selector, render;
a refused action becomes a message on the page, never a 500."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from leadpact.campaigns.models import TouchKind
from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import Done, form_post
from leadpact.common.numbers import is_whole_number
from leadpact.scoring.analysis import (
    CapacityInput,
    drift_analysis_cached,
    threshold_analysis,
    what_if,
)
from leadpact.scoring.models import FitRun, LeadProfile, ProfileStatus
from leadpact.scoring.roles import (
    can_approve_profile,
    can_edit_profile,
    can_put_live,
    can_view_profile,
)
from leadpact.scoring.scores import ProfileScorer
from leadpact.scoring.selectors import (
    fit_runs_recent,
    profile_approvals,
    profile_diff,
    profile_events,
    profile_get,
    profile_list,
    profile_live,
    profile_scheduled,
    rescore_run_latest,
)
from leadpact.scoring.services.fit_runs import fit_run_start_csv, fit_run_start_history
from leadpact.scoring.services.fitting import (
    fit_options,
)
from leadpact.scoring.services.profiles import (
    draft_edited,
    profile_approve,
    profile_copy_to_draft,
    profile_go_live,
    profile_propose,
    profile_reject,
    profile_update_draft,
    profile_withdraw,
)

S = ProfileStatus


def _viewer(request: HttpRequest) -> None:
    if not can_view_profile(request.user):
        raise PermissionDenied


def _load(profile_id: int) -> LeadProfile:
    try:
        return profile_get(profile_id=profile_id)
    except LeadProfile.DoesNotExist:
        raise Http404("No such profile version.") from None


def _charts(profile: LeadProfile) -> dict[str, Any]:
    validation = profile.report.get("validation") or {}
    return {
        "reliability": [r for r in validation.get("reliability", []) if r.get("count")],
        "capture": profile.report.get("capture_curve", []),
    }


def _profile_context(request: HttpRequest, profile: LeadProfile) -> dict[str, Any]:
    user = request.user
    approvals = profile_approvals(profile=profile)
    approved_roles = {a.actor_role for a in approvals}
    return {
        "profile": profile,
        "rules_rows": profile.engagement_rules,
        "touch_kinds": TouchKind.choices,
        "charts": _charts(profile),
        "validation": profile.report.get("validation"),
        "approvals": approvals,
        "events": profile_events(profile=profile),
        "can_edit": can_edit_profile(user) and profile.status == S.DRAFT,
        "can_propose": can_edit_profile(user) and profile.status == S.DRAFT,
        "can_approve": can_approve_profile(user)
        and profile.status == S.PROPOSED
        and profile.author_id != user.pk
        and user.role not in approved_roles,
        "can_reject": can_approve_profile(user)
        and profile.status == S.PROPOSED
        and profile.author_id != user.pk,
        "can_withdraw": (can_edit_profile(user) or can_approve_profile(user))
        and profile.status in (S.PROPOSED, S.APPROVED, S.SCHEDULED),
        "can_go_live": can_put_live(user) and profile.status in (S.APPROVED, S.SCHEDULED),
        "can_copy": can_edit_profile(user),
    }


@login_required
def live(request: HttpRequest) -> HttpResponse:
    _viewer(request)
    profile = profile_live()
    context: dict[str, Any] = {
        "profile": profile,
        "can_fit": can_edit_profile(request.user),
        "scheduled": profile_scheduled(),
        "rescore": rescore_run_latest(),
    }
    if profile is None:
        return render(request, "scoring/live.html", context)
    context.update(_profile_context(request, profile))
    context["drift"] = drift_analysis_cached(profile)
    context["capacity_form"] = {
        k: request.GET.get(k, "") for k in ("capacity", "deal_value", "cost_per_lead", "weeks")
    }
    status = 200
    try:
        given = CapacityInput.from_params(request.GET)
        if given is not None:
            context["threshold"] = threshold_analysis(profile, given)
    except ApplicationError as exc:
        context["capacity_error"] = exc.message
        status = exc.status
    return render(request, "scoring/live.html", context, status=status)


@login_required
def versions(request: HttpRequest) -> HttpResponse:
    _viewer(request)
    items = list(profile_list())
    context: dict[str, Any] = {
        "versions": items,
        "can_fit": can_edit_profile(request.user),
        "fit_runs": fit_runs_recent(),
    }
    by_id = {p.pk: p for p in items}
    a, b = request.GET.get("a"), request.GET.get("b")
    if a and b:
        try:
            old, new = by_id[int(a)], by_id[int(b)]
        except (KeyError, ValueError):
            context["diff_error"] = "Choose two existing versions to compare."
        else:
            context["diff"] = profile_diff(old, new)
    return render(request, "scoring/versions.html", context)


@login_required
def version(request: HttpRequest, profile_id: int) -> HttpResponse:
    _viewer(request)
    profile = _load(profile_id)
    context = _profile_context(request, profile)
    if profile.based_on_id:
        context["diff"] = profile_diff(profile.based_on, profile)
    return render(request, "scoring/version.html", context)


def _edited_points(post: Any) -> dict[tuple[str, int], str]:
    """Fields ``p:<bin index>:<attribute>`` → ``{(attribute, index): points}``."""
    points = {}
    for key, value in post.items():
        if key.startswith("p:"):
            _, index, name = [*key.split(":", 2), "", ""][:3]
            if not is_whole_number(index) or not name:
                raise ApplicationError(f"Bad field {key!r}.")
            points[(name, int(index))] = value
    return points


RULE_FIELDS = ("points", "half_life_days", "cap", "period_days")


def _edited_rules(post: Any) -> list[dict[str, Any]] | None:
    """Rows ``r-<n>-<field>`` (``r-<n>-remove`` drops one; ``r-new-*`` adds a kind) as the
    raw rules table, in row order; ``None`` when the form has no rules fields."""
    rows: dict[str, dict[str, Any]] = {}
    for key, value in post.items():
        if key.startswith("r-"):
            _, row, name = [*key.split("-", 2), "", ""][:3]
            rows.setdefault(row, {})[name] = value
    if not rows:
        return None
    new = rows.pop("new", {})
    numbered = []
    for row, values in rows.items():
        if not is_whole_number(row):
            raise ApplicationError(f"Bad engagement rule row {row!r}.")
        numbered.append((int(row), values))
    items = [
        {"kind": values.get("kind", ""), **{f: values.get(f, "") for f in RULE_FIELDS}}
        for _, values in sorted(numbered)
        if not values.get("remove")
    ]
    if str(new.get("kind", "")).strip():
        items.append({"kind": new["kind"], **{f: new.get(f, "") for f in RULE_FIELDS}})
    return items


@login_required
@require_POST
def version_edit(request: HttpRequest, profile_id: int) -> HttpResponse:
    """Save a draft's points, threshold and engagement rules, or only show what they would do
    (what-if)."""
    _viewer(request)
    profile = _load(profile_id)
    context = _profile_context(request, profile)
    try:
        if not can_edit_profile(request.user):
            raise PermissionDenied
        points = _edited_points(request.POST)
        threshold = request.POST.get("threshold", "")
        rules = _edited_rules(request.POST)
        if rules is not None:
            context["rules_rows"] = rules  # shown as typed if something is refused
        if request.POST.get("do") == "whatif":
            edited = draft_edited(
                profile=profile, points=points, threshold=threshold, engagement_rules=rules
            )
            live_profile = profile_live()
            reference = ProfileScorer.for_profile(live_profile) if live_profile else None
            context["whatif"] = what_if(edited.scorer, reference)
            context["whatif_changes"] = edited.changes
            context["edited"] = {f"{k[1]}:{k[0]}": v for k, v in points.items()}
            context["edited_threshold"] = threshold
            return render(request, "scoring/version.html", context)
        profile_update_draft(
            profile=profile,
            actor=request.user,
            points=points,
            threshold=threshold,
            engagement_rules=rules,
        )
        messages.success(request, f"Version {profile.version} saved.")
    except ApplicationError as exc:
        context["edit_error"] = exc.message
        return render(request, "scoring/version.html", context, status=exc.status)
    return redirect("scoring:version", profile_id=profile.pk)


def parse_effective_from(raw: Any) -> datetime | None:
    """A ``datetime-local`` value (or ISO 8601) in the current time zone; empty: ``None``."""
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ApplicationError(
            f"The effective date {text!r} is not a date and time (YYYY-MM-DD HH:MM)."
        ) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return value


def _go_live(request: HttpRequest, profile: LeadProfile) -> tuple[LeadProfile, str]:
    live_profile, run = profile_go_live(
        profile=profile,
        actor=request.user,
        effective_from=parse_effective_from(request.POST.get("effective_from")),
    )
    if run is None:
        when = timezone.localtime(live_profile.effective_from).strftime("%Y-%m-%d %H:%M")
        return live_profile, f"Scheduled: version {live_profile.version} goes live at {when}."
    return live_profile, "Live: open leads are being rescored in the background."


ACTIONS = {
    "propose": lambda r, p: (profile_propose(profile=p, actor=r.user), "Proposed for approval."),
    "approve": lambda r, p: (
        profile_approve(profile=p, actor=r.user),
        "Your approval is recorded.",
    ),
    "reject": lambda r, p: (
        profile_reject(profile=p, actor=r.user, reason=r.POST.get("reason", "")),
        "Rejected: sent back to draft.",
    ),
    "withdraw": lambda r, p: (
        profile_withdraw(profile=p, actor=r.user, reason=r.POST.get("reason", "")),
        "Sent back to draft.",
    ),
    "live": _go_live,
    "copy": lambda r, p: (profile_copy_to_draft(profile=p, actor=r.user), "New draft started."),
}


def _version_page(request: HttpRequest, profile_id: int, **_: Any) -> str:
    return reverse("scoring:version", args=[profile_id])


@login_required
@require_POST
@form_post(_version_page)
def version_action(request: HttpRequest, profile_id: int, action: str) -> Done:
    _viewer(request)
    if action not in ACTIONS:
        raise Http404("Unknown action.")
    result, done = ACTIONS[action](request, _load(profile_id))
    return Done(done, reverse("scoring:version", args=[result.pk]))


def _fit_started(run: FitRun) -> str:
    run.refresh_from_db()  # run already when jobs are in-process and synchronous
    if run.status == FitRun.Status.DONE and run.profile is not None:
        return f"Draft version {run.profile.version} fitted; review it, then propose."
    if run.status == FitRun.Status.FAILED:
        raise ApplicationError(f"Could not fit a profile: {run.error}")
    return (
        "Fitting in the background: the draft appears below when it is done, "
        "and you get a notification."
    )


@login_required
@require_POST
@form_post("scoring:versions")
def fit_history(request: HttpRequest) -> str:
    return _fit_started(fit_run_start_history(actor=request.user))  # type: ignore[arg-type]


@login_required
@require_POST
@form_post("scoring:versions")
def fit_csv(request: HttpRequest) -> str:
    options: dict[str, Any] = {
        "outcome": request.POST.get("outcome", ""),
        "positive": request.POST.get("positive") or None,
        "date_column": request.POST.get("date_column") or None,
        **fit_options(request.POST),
    }
    run = fit_run_start_csv(
        actor=request.user,  # type: ignore[arg-type]
        upload=request.FILES.get("history"),
        options=options,
    )
    return _fit_started(run)
