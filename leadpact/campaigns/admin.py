"""Admin of campaigns and touches: campaign edits go through ``campaign_create/update``;
touches are history and read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from leadpact.campaigns.models import Campaign, Touch
from leadpact.campaigns.services import (
    campaign_create,
    campaign_update,
    campaign_values_clean,
)
from leadpact.common.errors import ApplicationError

_EDITABLE = [
    "name",
    "code",
    "channel",
    "cost",
    "currency",
    "start_date",
    "end_date",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "description",
    "is_active",
]


class CampaignAdminForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = _EDITABLE

    def _post_clean(self) -> None:
        # The service's rules replace the model's own validation (one set of rules).
        pass

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        creating = self.instance.pk is None
        names = _EDITABLE if creating else self.changed_data
        values = {name: data.get(name) for name in names if name in data}
        try:
            self.clean_values = campaign_values_clean(
                values, campaign=None if creating else self.instance
            )
        except ApplicationError as exc:
            for name, message in exc.extra.get("fields", {}).items():
                self.add_error(name if name in self.fields else None, message)
        return data


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignAdminForm
    list_display = ["name", "code", "channel", "cost", "currency", "start_date", "end_date"]
    list_filter = ["channel", "is_active"]
    search_fields = ["name", "code"]

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        if change:
            values = {name: form.cleaned_data.get(name) for name in form.changed_data}
            stored = Campaign.objects.get(pk=obj.pk)
            campaign_update(campaign=stored, actor=request.user, values=values)
        else:
            created = campaign_create(
                actor=request.user, values={n: form.cleaned_data.get(n) for n in _EDITABLE}
            )
            obj.pk = created.pk


@admin.register(Touch)
class TouchAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "lead", "kind", "channel", "campaign", "utm_campaign"]
    list_filter = ["kind", "channel"]
    list_select_related = ["lead", "campaign"]
    raw_id_fields = ["lead", "original_lead", "campaign"]
    search_fields = ["idempotency_key", "utm_campaign"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
