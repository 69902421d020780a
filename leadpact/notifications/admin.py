from django.contrib import admin

from leadpact.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "lead"]
