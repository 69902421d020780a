"""The CSV import pages: upload, map columns, follow the background job, download the report.

Marketing and admins only (``can_import``); everyone else gets 403. Each view validates its
input and calls one service from ``leads.services.imports``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadpact.accounts.roles import can_import
from leadpact.campaigns.models import TouchKind
from leadpact.common.errors import ApplicationError
from leadpact.common.form_posts import form_post
from leadpact.common.numbers import is_whole_number
from leadpact.leads.models import ImportJob
from leadpact.leads.services.imports.jobs import (
    import_job_resume,
    import_job_start,
    import_mapping_save,
    import_upload_create,
)
from leadpact.leads.services.imports.mapping import (
    ATTRIBUTE,
    IGNORE,
    LEAD_TARGETS,
    MAPPING_MAX_BYTES,
    ColumnMapping,
    MappingError,
    mapping_from_dict,
    mapping_from_json,
)
from leadpact.leads.services.imports.selectors import (
    import_job_get,
    import_job_list,
    import_mapping_list,
)

TARGET_CHOICES = [
    (IGNORE, "— ignore —"),
    (ATTRIBUTE, "attribute (keep as lead attribute)"),
    *[(name, name.replace("_", " ")) for name in LEAD_TARGETS],
]


def importer_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_import(request.user):
            raise PermissionDenied("Only marketing and revenue-operations admins import leads.")
        return view(request, *args, **kwargs)

    return wrapped


def _job(job_id: int) -> ImportJob:
    try:
        return import_job_get(job_id=job_id)
    except ImportJob.DoesNotExist:
        raise Http404 from None


def _list(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    return render(
        request,
        "leads/imports/list.html",
        {
            "jobs": import_job_list(),
            "saved_mappings": import_mapping_list(),
            "error": error,
            "max_bytes": settings.LEADPACT_IMPORT_MAX_BYTES,
        },
        status=status,
    )


@importer_only
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    return _list(request)


def _uploaded_mapping(request: HttpRequest) -> ColumnMapping | None:
    """The mapping to start from: an uploaded mapping file, or a saved one, or none."""
    upload = request.FILES.get("mapping_file")
    if upload is not None:
        if (upload.size or 0) > MAPPING_MAX_BYTES:
            raise MappingError(f"a mapping file is at most {MAPPING_MAX_BYTES:,} bytes")
        return mapping_from_json(upload.read(), source=f"mapping {upload.name}")
    saved_id = request.POST.get("saved_mapping", "").strip()
    if saved_id:
        if not is_whole_number(saved_id):
            raise MappingError("choose a saved mapping from the list")
        saved = import_mapping_list().filter(pk=int(saved_id)).first()
        if saved is None:
            raise MappingError("that saved mapping no longer exists")
        return mapping_from_dict(saved.mapping)
    return None


@importer_only
@require_POST
def import_upload(request: HttpRequest) -> HttpResponse:
    limit = settings.LEADPACT_IMPORT_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH", "")
    if is_whole_number(declared) and int(declared) > limit + MAPPING_MAX_BYTES + 64 * 1024:
        return _list(
            request,
            error=f"The file is larger than {limit:,} bytes, the most an import takes.",
            status=413,
        )
    upload = request.FILES.get("file")
    if upload is None:
        return _list(request, error="Choose a CSV file to import.", status=400)
    try:
        mapping = _uploaded_mapping(request)
        job = import_upload_create(upload=upload, actor=request.user, mapping=mapping)
    except ApplicationError as exc:
        return _list(request, error=_sentence(exc.message), status=exc.status)
    return redirect("imports:mapping", job_id=job.pk)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _mapping_from_form(job: ImportJob, data: Any) -> ColumnMapping:
    """The job's mapping with what the form sets: each column's target and date format, the
    external source, missing values and the touch kind. Value maps and campaign rules come
    from the mapping file the person started from and are kept."""
    base = dict(job.mapping)
    columns: dict[str, str] = {}
    dates: dict[str, str] = {}
    for index, header in enumerate(job.headers):
        if not header:
            continue
        target = data.get(f"target_{index}", IGNORE)
        if target not in LEAD_TARGETS and target not in (IGNORE, ATTRIBUTE):
            raise MappingError(f"column {header!r}: choose a target from the list")
        columns[header] = target
        fmt = data.get(f"date_{index}", "").strip()
        if fmt:
            dates[header] = fmt
    base["columns"] = columns
    base["attributes"] = []
    base["dates"] = dates
    base["values"] = {k: v for k, v in (base.get("values") or {}).items() if k in columns}
    base["external_source"] = data.get("external_source", "").strip()
    base["missing_values"] = [v.strip() for v in data.get("missing_values", "").split(",")]
    base["missing_values"] = [v for v in base["missing_values"] if v]
    kind = data.get("touch_kind", "")
    if kind == "none":
        base["touch"] = None
    elif kind:
        touch = dict(base.get("touch") or {})
        touch["kind"] = kind
        if touch.get("occurred_at") and touch["occurred_at"] not in columns:
            touch.pop("occurred_at")
        base["touch"] = touch
    return mapping_from_dict(base)


def _mapping_page(
    request: HttpRequest, job: ImportJob, mapping: dict[str, Any], error: str = "", status=200
) -> HttpResponse:
    columns = mapping.get("columns", {})
    rest = mapping.get("attributes") == "rest"
    listed = set(mapping.get("attributes") or []) if not rest else set()
    rows = []
    for index, header in enumerate(job.headers):
        target = columns.get(header)
        if target is None:
            target = ATTRIBUTE if (rest or header in listed) and header else IGNORE
        if target.startswith(ATTRIBUTE + ":"):
            target = ATTRIBUTE
        rows.append(
            {
                "index": index,
                "header": header or f"(unnamed column {index + 1})",
                "named": bool(header),
                "target": target,
                "date": (mapping.get("dates") or {}).get(header, ""),
            }
        )
    touch = mapping.get("touch", {})
    return render(
        request,
        "leads/imports/mapping.html",
        {
            "job": job,
            "rows": rows,
            "choices": TARGET_CHOICES,
            "external_source": mapping.get("external_source", ""),
            "missing_values": ", ".join(mapping.get("missing_values") or []),
            "touch_kind": "none" if touch is None else (touch or {}).get("kind", "import"),
            "touch_kinds": TouchKind.choices,
            "keeps": {
                "value maps": bool(mapping.get("values")),
                "campaign rule": bool(mapping.get("campaigns")),
            },
            "error": error,
        },
        status=status,
    )


@importer_only
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(job_id)
    if job.status != ImportJob.Status.DRAFT:
        return redirect("imports:detail", job_id=job.pk)
    if request.method == "GET":
        return _mapping_page(request, job, job.mapping)
    action = request.POST.get("action", "start")
    try:
        mapping = _mapping_from_form(job, request.POST)
        if action == "download":
            response = HttpResponse(
                json.dumps(mapping.as_dict(), indent=2, ensure_ascii=False),
                content_type="application/json",
            )
            stem = Path(job.original_name).stem or "import"
            response["Content-Disposition"] = f'attachment; filename="{stem}.mapping.json"'
            return response
        if action == "save":
            saved = import_mapping_save(
                name=request.POST.get("mapping_name", ""), mapping=mapping, actor=request.user
            )
            ImportJob.objects.filter(pk=job.pk).update(mapping=mapping.as_dict())
            messages.success(request, f"Mapping “{saved.name}” saved.")
            return redirect("imports:mapping", job_id=job.pk)
        import_job_start(
            job=job,
            mapping=mapping,
            dry_run=request.POST.get("dry_run") == "on",
            actor=request.user,
        )
    except ApplicationError as exc:
        return _mapping_page(
            request, job, _posted(job, request.POST), _sentence(exc.message), exc.status
        )
    return redirect("imports:detail", job_id=job.pk)


def _posted(job: ImportJob, data: Any) -> dict[str, Any]:
    """What the person chose, to show the form again after an error."""
    columns = {h: data.get(f"target_{i}", IGNORE) for i, h in enumerate(job.headers) if h}
    dates = {h: data.get(f"date_{i}", "") for i, h in enumerate(job.headers) if h}
    missing = [v.strip() for v in data.get("missing_values", "").split(",") if v.strip()]
    return {
        **job.mapping,
        "columns": columns,
        "attributes": [],
        "dates": {k: v for k, v in dates.items() if v},
        "external_source": data.get("external_source", ""),
        "missing_values": missing,
    }


@importer_only
@require_GET
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(job_id)
    if job.status == ImportJob.Status.DRAFT:
        return redirect("imports:mapping", job_id=job.pk)
    return render(request, "leads/imports/detail.html", {"job": job})


@importer_only
@require_GET
def import_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress fragment the detail page polls (HTMX) while the job runs."""
    return render(request, "leads/imports/_status.html", {"job": _job(job_id)})


@importer_only
@require_GET
def import_report(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(job_id)
    path = Path(job.report_path) if job.report_path else None
    if path is None or not path.is_file():
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"import-{job.pk}-rejected-rows.csv",
        content_type="text/csv",
    )


def _job_page(request: HttpRequest, job_id: int) -> str:
    return reverse("imports:detail", args=[job_id])


@importer_only
@require_POST
@form_post(_job_page)
def import_resume(request: HttpRequest, job_id: int) -> str:
    import_job_resume(job=_job(job_id), actor=request.user)
    return "Import resumed: it goes on from the last chunk it saved."
