from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from leadpact.accounts.models import ApiToken, Team, User


@admin.register(User)
class LeadpactUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "team", "is_active"]
    list_filter = ["role", "team", "is_active"]
    fieldsets = (*UserAdmin.fieldsets, ("leadpact", {"fields": ("role", "team", "title")}))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "manager"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "last_used_at"]
