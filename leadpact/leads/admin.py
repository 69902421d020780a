"""Admin of the leads app. Edits go through the same services as the API and the pages;
history (timeline, imports, duplicate decisions) is read-only here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from leadpact.common.errors import ApplicationError
from leadpact.leads.models import (
    Company,
    DuplicateCandidate,
    ImportJob,
    Lead,
    TimelineEvent,
    WebForm,
)
from leadpact.leads.services.profile import EDITABLE_FIELDS, lead_update, lead_update_clean
from leadpact.leads.services.webforms import web_form_create, web_form_update


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LeadAdminForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = list(EDITABLE_FIELDS)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        values = {name: data.get(name) or "" for name in self.changed_data}
        try:
            lead_update_clean(lead=self.instance, values=values)
        except ApplicationError as exc:
            for name, message in exc.extra.get("fields", {}).items():
                self.add_error(name if name in self.fields else None, message)
        return data


class TimelineInline(admin.TabularInline):
    model = TimelineEvent
    fields = ["occurred_at", "kind", "summary", "actor"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-occurred_at", "-id"]
    show_change_link = False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    """Profile fields are editable (through ``lead_update``); state, owner and score change
    through the lifecycle, routing and scoring services, never here."""

    form = LeadAdminForm
    list_display = ["id", "display_name", "email", "company_name", "state", "owner", "captured_at"]
    list_filter = ["state", "source_channel"]
    search_fields = ["email_key", "search_key", "company_key", "external_id"]
    list_select_related = ["owner"]
    show_full_result_count = False
    readonly_fields = [
        "state",
        "owner",
        "score",
        "source_channel",
        "source_campaign",
        "source_detail",
        "external_source",
        "external_id",
        "captured_at",
        "attributes",
        "merged_into",
        "version",
    ]
    inlines = [TimelineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # leads arrive through capture (form, API, import)

    def save_model(self, request: HttpRequest, obj: Lead, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data.get(name) or "" for name in form.changed_data}
        if values:
            lead_update(lead=obj, actor=request.user, values=values)


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "lead", "kind", "summary", "actor"]
    list_filter = ["kind"]
    list_select_related = ["lead", "actor"]
    raw_id_fields = ["lead", "touch"]
    show_full_result_count = False


class WebFormAdminForm(forms.ModelForm):
    redirect_url = forms.URLField(required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = WebForm
        fields = ["name", "campaign", "channel", "redirect_url", "honeypot_field", "is_active"]


@admin.register(WebForm)
class WebFormAdmin(admin.ModelAdmin):
    form = WebFormAdminForm
    list_display = ["name", "key", "campaign", "channel", "is_active", "submissions"]
    list_display += ["spam_blocked"]
    readonly_fields = ["key", "submissions", "spam_blocked"]

    def save_model(self, request: HttpRequest, obj: WebForm, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data.get(name) for name in form.changed_data}
        if change:  # the form already wrote onto obj: compare against the stored row
            stored = WebForm.objects.get(pk=obj.pk)
            web_form_update(form=stored, actor=request.user, values=values)
        else:
            created = web_form_create(actor=request.user, values=form.cleaned_data)
            obj.pk = created.pk
            obj.key = created.key


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "original_name", "status", "created_by", "processed_rows", "created_at"]
    list_filter = ["status"]


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(ReadOnlyAdmin):
    """Merging and dismissing happen on the duplicates page (``lead_merge``), not here."""

    list_display = ["lead_a", "lead_b", "similarity", "reason", "status", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["lead_a", "lead_b", "decided_by"]


@admin.register(Company)
class CompanyAdmin(ReadOnlyAdmin):
    list_display = ["name", "domain", "industry", "country"]
    search_fields = ["name_key", "domain"]
