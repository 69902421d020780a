from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from leadpact.pipeline.models import (
    Activity,
    Deal,
    DealEvent,
    ForecastAdjustment,
    ForecastSnapshot,
    LostReason,
    Pipeline,
    Quota,
    Stage,
)


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default"]
    inlines = [StageInline]


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    """Read-mostly: changes go through the services (pages and API) so the timeline and the
    version stay right."""

    list_display = ["name", "stage", "status", "amount", "currency", "close_date", "owner"]
    list_filter = ["status", "pipeline", "forecast_category"]
    search_fields = ["name", "account_name"]
    list_select_related = ["stage", "owner"]
    readonly_fields = [f.name for f in Deal._meta.fields]


class _ReadOnly(admin.ModelAdmin):
    """Written through the pages and API only: the quota and forecast pages record who set
    what, and a deal's timeline (its stage columns in step with its JSON) is written by the
    deal services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DealEvent)
class DealEventAdmin(_ReadOnly):
    list_display = ["deal", "kind", "summary", "actor", "occurred_at"]
    list_select_related = ["deal", "actor"]


admin.site.register(LostReason)
admin.site.register(Activity)


@admin.register(Quota)
class QuotaAdmin(_ReadOnly):
    list_display = ["kind", "rep", "team", "period_kind", "start", "target", "currency", "set_by"]
    list_filter = ["kind", "period_kind"]
    list_select_related = ["rep", "team", "set_by"]


@admin.register(ForecastAdjustment)
class ForecastAdjustmentAdmin(_ReadOnly):
    list_display = ["rep", "start", "end", "commit", "best_case", "currency", "set_by"]
    list_select_related = ["rep", "set_by"]


@admin.register(ForecastSnapshot)
class ForecastSnapshotAdmin(_ReadOnly):
    list_display = ["week", "start", "end", "scope", "method", "value", "currency"]
    list_filter = ["method", "period_kind"]
