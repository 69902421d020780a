"""Read-only admin views. State changes (offers, clocks, policies, calendars, rejection
reasons, the checklist, routing rules, rep availability) go through the services and their
pages under /routing/, so the admin offers no editing of them: a change made here would miss
its audit trail."""

from django.contrib import admin

from leadpact.routing.models import (
    BusinessCalendar,
    FallbackItem,
    Offer,
    QualificationItem,
    RejectionReason,
    RepAvailability,
    RoutingChange,
    RoutingRule,
    SlaClock,
    SlaPolicy,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(RoutingRule)
class RoutingRuleAdmin(ReadOnlyAdmin):
    list_display = ["position", "name", "team", "rep", "is_active"]


@admin.register(RepAvailability)
class RepAvailabilityAdmin(ReadOnlyAdmin):
    list_display = ["rep", "weight", "max_open_leads", "out_of_office_until"]


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ["lead", "rep", "status", "offered_at", "expires_at", "answered_at"]
    list_filter = ["status"]
    raw_id_fields = ["lead"]


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    list_display = ["policy", "lead", "rep", "status", "deadline_at", "warned_at", "breached_at"]
    list_filter = ["status", "policy"]
    raw_id_fields = ["lead", "offer"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "team", "amount", "escalation", "is_active"]


@admin.register(FallbackItem)
class FallbackItemAdmin(ReadOnlyAdmin):
    list_display = ["lead", "reason", "created_at", "resolved_at"]
    raw_id_fields = ["lead"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ReadOnlyAdmin):
    list_display = ["name", "team", "time_zone", "holiday_country", "holiday_subdivision"]


@admin.register(RoutingChange)
class RoutingChangeAdmin(ReadOnlyAdmin):
    list_display = ["subject", "label", "action", "actor", "changed_at"]
    list_filter = ["subject", "action"]
    list_select_related = ["actor"]


@admin.register(RejectionReason)
class RejectionReasonAdmin(ReadOnlyAdmin):
    list_display = ["position", "label", "code", "is_active"]


@admin.register(QualificationItem)
class QualificationItemAdmin(ReadOnlyAdmin):
    list_display = ["position", "label", "is_active"]
