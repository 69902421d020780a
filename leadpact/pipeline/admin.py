from django.contrib import admin

from leadpact.pipeline.models import Activity, Deal, DealEvent, LostReason, Pipeline, Stage


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


@admin.register(DealEvent)
class DealEventAdmin(admin.ModelAdmin):
    list_display = ["deal", "kind", "summary", "actor", "occurred_at"]
    list_select_related = ["deal", "actor"]


admin.site.register(LostReason)
admin.site.register(Activity)
