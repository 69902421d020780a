"""Deals: create (from an accepted/qualified lead or directly), edit, move through stages,
win and lose. Every change is written to the deal's own timeline (DealEvent) with who and when,
and every change names the ``version`` it was made from (optimistic locking)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leadpact.accounts.models import Role, User
from leadpact.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from leadpact.common.numbers import is_whole_number
from leadpact.leads.models import Company, Lead, LeadState
from leadpact.leads.policies import manages
from leadpact.leads.services import lifecycle
from leadpact.pipeline.models import Deal, DealEvent, ForecastCategory, LostReason, Pipeline, Stage
from leadpact.pipeline.money import money_clean
from leadpact.pipeline.policies import can_create_deal, can_own_deals, ensure_can_edit
from leadpact.routing.services.qualification import lead_qualify_checked

CONVERTIBLE = (LeadState.ACCEPTED, LeadState.SQL)


@dataclass
class DealInput:
    name: str
    amount: Any
    currency: str
    close_date: date
    owner: User | None = None
    pipeline: Pipeline | None = None
    stage: Stage | None = None
    company: Company | None = None
    account_name: str = ""
    forecast_category: str = ForecastCategory.PIPELINE
    extra: dict[str, Any] = field(default_factory=dict)


def _today() -> date:
    return timezone.localdate()


def _check_close_date(value: Any) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ApplicationError(
            "The expected close date must be a date (YYYY-MM-DD).",
            extra={"close_date": ["Not a date."]},
        )
    if value < _today():
        raise ApplicationError(
            f"The expected close date {value.isoformat()} is in the past.",
            extra={"close_date": ["In the past."]},
        )
    return value


def _check_category(value: str) -> str:
    if value not in ForecastCategory.values:
        raise ApplicationError(
            f"Forecast category must be one of {', '.join(ForecastCategory.values)}.",
            extra={"forecast_category": ["Unknown category."]},
        )
    return value


def _check_owner(actor: User | None, owner: User) -> None:
    if not can_own_deals(owner):
        raise ApplicationError(f"{owner} is not an active salesperson and can't own deals.")
    if actor is None or actor.role == Role.ADMIN or actor.pk == owner.pk:
        return
    if actor.role == Role.SALES_MANAGER and manages(actor, owner):
        return
    raise PermissionDeniedError("You may only give deals to yourself or to your team.")


def _event(
    deal: Deal,
    kind: str,
    summary: str,
    actor: User | None,
    data: dict[str, Any],
    now: datetime,
    *,
    stage: Stage | None = None,
    from_stage: Stage | None = None,
) -> DealEvent:
    """One timeline entry; a creation or stage move names its stages (``stage`` entered,
    ``from_stage`` left) as columns too, the same as in ``data``."""
    return DealEvent.objects.create(
        deal=deal,
        kind=kind,
        summary=summary[:300],
        actor=actor if getattr(actor, "pk", None) else None,
        data=data,
        occurred_at=now,
        stage=stage,
        from_stage=from_stage,
    )


@transaction.atomic
def deal_create(
    *,
    data: DealInput,
    actor: User | None,
    lead: Lead | None = None,
    checked: Iterable[int] = (),
) -> Deal:
    """A new open deal in the first open stage (or ``data.stage``).

    From a lead: the lead must be sales accepted or qualified; it becomes an opportunity through
    the lifecycle services and stays linked, touches and all. A lead that is only accepted is
    qualified first through the company's qualification checklist (``checked`` are the ticked
    item ids), exactly as the qualify button does: an unticked item refuses the deal.
    """
    if actor is not None and not can_create_deal(actor):
        raise PermissionDeniedError("Only salespeople and admins create deals.")
    name = (data.name or "").strip()
    if not name and lead is not None:
        name = lead.company_name or lead.display_name
    if not name:
        raise ApplicationError("Give the deal a name.", extra={"name": ["Required."]})
    amount, currency = money_clean(data.amount, data.currency)
    close_date = _check_close_date(data.close_date)
    category = _check_category(data.forecast_category)
    owner = data.owner or (lead.owner if lead is not None else None) or actor
    if owner is None:
        raise ApplicationError("Say who owns the deal.", extra={"owner": ["Required."]})
    _check_owner(actor, owner)
    pipeline = data.pipeline or (data.stage.pipeline if data.stage else None)
    pipeline = pipeline or Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:
        raise ApplicationError("Set up a pipeline before creating deals.")
    stage = data.stage or pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position").first()
    if stage is None or stage.pipeline_id != pipeline.pk or stage.kind != Stage.Kind.OPEN:
        raise ApplicationError("A new deal starts in an open stage of its pipeline.")
    company, account_name = data.company, (data.account_name or "").strip()
    extra: dict[str, Any] = {}
    if lead is not None:
        lead = Lead.objects.select_for_update(of=("self",)).get(pk=lead.pk)
        if lead.state not in CONVERTIBLE:
            raise ConflictError(
                f"Only a sales accepted or qualified lead becomes a deal; this one is "
                f"{lead.get_state_display().lower()}.",
                code="lead_not_convertible",
            )
        if Deal.objects.filter(lead=lead).exists():
            raise ConflictError("This lead already has a deal.", code="lead_has_deal")
        if lead.state == LeadState.ACCEPTED:
            lead_qualify_checked(
                lead=lead, actor=actor, checked=checked, note="Qualified by opening a deal."
            )
        lifecycle.lead_convert(lead=lead, actor=actor, note=f"Deal opened: {name}")
        company = company or lead.company
        account_name = account_name or lead.company_name
        extra = {"source_channel": lead.source_channel, "lead_score": lead.score}
    if company is None and not account_name:
        raise ApplicationError(
            "Name the account (a company or a name).", extra={"account_name": ["Required."]}
        )
    now = timezone.now()
    deal = Deal.objects.create(
        name=name[:200],
        pipeline=pipeline,
        stage=stage,
        lead=lead,
        company=company,
        account_name=account_name[:200],
        amount=amount,
        currency=currency,
        close_date=close_date,
        owner=owner,
        forecast_category=category,
        stage_entered_at=now,
        **extra,
    )
    _event(
        deal,
        DealEvent.Kind.CREATED,
        f"Deal created in {stage.name}: {amount} {currency}",
        actor,
        {"stage": stage.pk, "amount": str(amount), "currency": currency},
        now,
        stage=stage,
    )
    return deal


def _locked(deal: Deal, version: int | None) -> Deal:
    current = (
        Deal.objects.select_for_update(of=("self",))
        .select_related("stage", "owner", "lead")
        .get(pk=deal.pk)
    )
    if version is None:
        raise ApplicationError(
            "Say which version of the deal you changed.", code="version_required"
        )
    if int(version) != current.version:
        raise ConflictError(
            f"Someone changed this deal meanwhile (you edited version {version}, it is now "
            f"version {current.version}). Reload it and make your change again.",
            code="stale_version",
            extra={"current_version": current.version},
        )
    return current


EDITABLE = (
    "name",
    "amount",
    "currency",
    "close_date",
    "forecast_category",
    "account_name",
    "owner",
)


@transaction.atomic
def deal_update(*, deal: Deal, actor: User | None, version: int | None, **changes: Any) -> Deal:
    """Change the deal's fields; a stale ``version`` is refused (409), nothing is overwritten."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ApplicationError(f"These deal fields can't be changed here: {', '.join(unknown)}.")
    current = _locked(deal, version)
    ensure_can_edit(actor, current)
    if current.status != Deal.Status.OPEN:
        raise ConflictError("A closed deal can't be edited.")
    now = timezone.now()
    amount, currency = money_clean(
        changes.get("amount", current.amount), changes.get("currency", current.currency)
    )
    before_amount, before_currency = current.amount, current.currency
    changed: list[str] = []
    if (amount, currency) != (before_amount, before_currency):
        current.amount, current.currency = amount, currency
        changed += ["amount", "currency"]
        _event(
            current,
            DealEvent.Kind.AMOUNT,
            f"Amount {before_amount} {before_currency} → {amount} {currency}",
            actor,
            {"from": str(before_amount), "to": str(amount), "currency": currency},
            now,
        )
    simple: dict[str, Any] = {}
    if "name" in changes:
        simple["name"] = (changes["name"] or "").strip()[:200]
        if not simple["name"]:
            raise ApplicationError("The deal needs a name.", extra={"name": ["Required."]})
    if "account_name" in changes:
        simple["account_name"] = (changes["account_name"] or "").strip()[:200]
    if "close_date" in changes and changes["close_date"] != current.close_date:
        simple["close_date"] = _check_close_date(changes["close_date"])
    if "forecast_category" in changes:
        simple["forecast_category"] = _check_category(changes["forecast_category"])
    if "owner" in changes and changes["owner"].pk != current.owner_id:
        _check_owner(actor, changes["owner"])
        simple["owner"] = changes["owner"]
    for name, value in simple.items():
        before = getattr(current, name)
        if before == value:
            continue
        setattr(current, name, value)
        changed.append(name)
        _event(
            current,
            DealEvent.Kind.FIELD,
            f"{Deal._meta.get_field(name).verbose_name.capitalize()}: {before} → {value}",
            actor,
            {"field": name, "from": _plain(before), "to": _plain(value)},
            now,
        )
    if changed:
        current.version += 1
        current.save(update_fields=[*changed, "version", "updated_at"])
    return current


def _plain(value: Any) -> Any:
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, User):
        return value.pk
    return value


def _resolve_lost_reason(reason: Any) -> LostReason:
    if isinstance(reason, LostReason):
        return reason
    text = str(reason or "").strip()
    if not text:
        raise ApplicationError("Say why the deal was lost.", extra={"lost_reason": ["Required."]})
    found = LostReason.objects.filter(is_active=True, label__iexact=text).first()
    if found is None and is_whole_number(text):
        found = LostReason.objects.filter(is_active=True, pk=int(text)).first()
    if found is None:
        if LostReason.objects.filter(is_active=True).exists():
            labels = ", ".join(
                LostReason.objects.filter(is_active=True).values_list("label", flat=True)
            )
            raise ApplicationError(f"Unknown lost reason {text!r}; choose one of: {labels}.")
        found, _ = LostReason.objects.get_or_create(label=text[:100])
    return found


@transaction.atomic
def deal_move(
    *,
    deal: Deal,
    actor: User | None,
    stage: Stage,
    version: int | None,
    confirmed: Sequence[str] = (),
    lost_reason: Any = None,
    note: str = "",
) -> Deal:
    """Move the deal to ``stage``. Moving forward (or to won) needs every exit criterion of the
    stage being left confirmed; moving to a lost stage needs a lost reason. Winning or losing
    closes the linked lead through the lifecycle services."""
    current = _locked(deal, version)
    ensure_can_edit(actor, current)
    if current.status != Deal.Status.OPEN:
        raise ConflictError("This deal is closed; it can't move.")
    if stage.pipeline_id != current.pipeline_id:
        raise ApplicationError("That stage belongs to another pipeline.")
    if stage.pk == current.stage_id:
        raise ApplicationError(f"The deal is already in {stage.name}.")
    leaving = current.stage
    forward = stage.kind == Stage.Kind.WON or (
        stage.kind == Stage.Kind.OPEN and stage.position > leaving.position
    )
    ticked = {str(c).strip() for c in confirmed}
    data: dict[str, Any] = {
        "from_stage": leaving.pk,
        "to_stage": stage.pk,
        "from_name": leaving.name,
        "to_name": stage.name,
    }
    if forward and leaving.exit_criteria:
        missing = [c for c in leaving.exit_criteria if c not in ticked]
        if missing:
            raise ApplicationError(
                f"Confirm the exit criteria of {leaving.name} first: {'; '.join(missing)}.",
                code="exit_criteria",
                extra={"missing": missing},
            )
        data["confirmed"] = list(leaving.exit_criteria)
    now = timezone.now()
    fields = ["stage", "stage_entered_at", "version", "updated_at"]
    summary = f"{leaving.name} → {stage.name}"
    if stage.kind == Stage.Kind.LOST:
        reason = _resolve_lost_reason(lost_reason)
        current.lost_reason = reason
        current.status = Deal.Status.LOST
        data["lost_reason"] = reason.label
        summary += f" ({reason.label})"
    elif stage.kind == Stage.Kind.WON:
        current.status = Deal.Status.WON
    if stage.kind != Stage.Kind.OPEN:
        current.closed_at = now
        current.forecast_category = ForecastCategory.CLOSED
        fields += ["status", "closed_at", "forecast_category", "lost_reason"]
    if note.strip():
        data["note"] = note.strip()
    current.stage = stage
    current.stage_entered_at = now
    current.version += 1
    current.save(update_fields=fields)
    _event(
        current, DealEvent.Kind.STAGE, summary, actor, data, now, stage=stage, from_stage=leaving
    )
    lead = current.lead
    if lead is not None and lead.state == LeadState.OPPORTUNITY:
        if stage.kind == Stage.Kind.WON:
            lifecycle.lead_close_won(lead=lead, actor=actor, note=f"Deal won: {current.name}")
        elif stage.kind == Stage.Kind.LOST:
            lifecycle.lead_close_lost(
                lead=lead, actor=actor, reason=data["lost_reason"], note=note.strip()
            )
    return current


def next_stage(deal: Deal, stages: Sequence[Stage]) -> Stage | None:
    """The stage after the deal's in board order (open stages, then the first won stage)."""
    ordered = sorted(stages, key=lambda s: s.position)
    later = [s for s in ordered if s.position > deal.stage.position and s.kind != Stage.Kind.LOST]
    return later[0] if later else None


BULK_LIMIT = 200


@dataclass(frozen=True)
class BulkItem:
    """A deal ticked for a bulk update and the version the manager saw it at."""

    deal_id: int
    version: int


@transaction.atomic
def deals_bulk_update(
    *,
    actor: User | None,
    items: Sequence[BulkItem],
    owner: int | None = None,
    forecast_category: str | None = None,
    close_date: date | None = None,
    stage: int | None = None,
    confirmed: Sequence[str] = (),
) -> list[Deal]:
    """One change applied to many deals, all or nothing, through ``deal_update`` and
    ``deal_move`` (so the permission, exit-criteria and version checks are the same as for one
    deal). Any refusal rolls every deal back and names the deals that failed."""
    items = list({i.deal_id: i for i in reversed(items)}.values())[::-1]  # a deal once
    if not items:
        raise ApplicationError("Tick the deals to update first.", code="bulk_empty")
    if len(items) > BULK_LIMIT:
        raise ApplicationError(f"Update at most {BULK_LIMIT} deals at once.", code="bulk_large")
    changes: dict[str, Any] = {}
    if owner is not None:
        found = User.objects.filter(pk=owner).first()
        if found is None:
            raise ApplicationError("No such owner.", extra={"owner": ["Unknown."]})
        changes["owner"] = found
    if forecast_category:
        changes["forecast_category"] = _check_category(forecast_category)
    if close_date is not None:
        changes["close_date"] = close_date
    target = None
    if stage is not None:
        target = Stage.objects.filter(pk=stage).first()
        if target is None:
            raise ApplicationError("No such stage.", extra={"stage": ["Unknown."]})
    if not changes and target is None:
        raise ApplicationError(
            "Choose what to change: owner, forecast category, close date or stage.",
            code="bulk_nothing",
        )
    deals = Deal.objects.select_related("stage").in_bulk([i.deal_id for i in items])
    done: list[Deal] = []
    failed: list[str] = []
    for item in items:
        deal = deals.get(item.deal_id)
        if deal is None:
            failed.append(f"deal {item.deal_id}: no such deal")
            continue
        try:
            version = item.version
            if changes:
                deal = deal_update(deal=deal, actor=actor, version=version, **changes)
                version = deal.version
            if target is not None and target.pk != deal.stage_id:
                deal = deal_move(
                    deal=deal, actor=actor, stage=target, version=version, confirmed=confirmed
                )
        except (ApplicationError, PermissionDeniedError) as exc:
            failed.append(f"{deal.name}: {exc.message}")
            continue
        done.append(deal)
    if failed:
        raise ConflictError(
            f"Nothing was changed; {len(failed)} of {len(items)} deal(s) were refused: "
            + " ".join(failed[:5])
            + (" …" if len(failed) > 5 else ""),
            code="bulk_refused",
            extra={"failed": failed},
        )
    return done


@transaction.atomic
def deals_move_stage_bulk(*, from_stage: Stage, to_stage: Stage, actor: User | None) -> int:
    """Every deal in ``from_stage`` goes to ``to_stage`` (same pipeline and kind), as when a
    stage is removed from the sales process: one UPDATE, one timeline entry per deal, each
    deal's version bumped so an edit made from the old page is refused. Exit criteria are not
    asked: the deals are relocated by whoever configures the process, not advanced."""
    if to_stage.pk == from_stage.pk:
        raise ApplicationError("Choose a different stage to move the deals to.")
    if to_stage.pipeline_id != from_stage.pipeline_id:
        raise ApplicationError("Move the deals to a stage of the same pipeline.")
    if to_stage.kind != from_stage.kind:
        raise ApplicationError(
            f"Move the deals to another {from_stage.get_kind_display().lower()} stage, "
            "so no deal is won, lost or reopened by a configuration change."
        )
    now = timezone.now()
    ids = list(
        Deal.objects.select_for_update().filter(stage=from_stage).values_list("pk", flat=True)
    )
    fields: dict[str, Any] = {"stage": to_stage, "version": F("version") + 1, "updated_at": now}
    if to_stage.kind == Stage.Kind.OPEN:
        fields["stage_entered_at"] = now
    Deal.objects.filter(pk__in=ids).update(**fields)
    actor_id = getattr(actor, "pk", None)
    data = {
        "from_stage": from_stage.pk,
        "to_stage": to_stage.pk,
        "from_name": from_stage.name,
        "to_name": to_stage.name,
        "note": f"Stage {from_stage.name} removed from the sales process.",
    }
    DealEvent.objects.bulk_create(
        [
            DealEvent(
                deal_id=pk,
                kind=DealEvent.Kind.STAGE,
                summary=f"{from_stage.name} → {to_stage.name} (stage removed)"[:300],
                actor_id=actor_id,
                data=data,
                occurred_at=now,
                stage=to_stage,
                from_stage=from_stage,
            )
            for pk in ids
        ],
        batch_size=2000,
    )
    return len(ids)
