from django.urls import path

from leadpact.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="list"),
    path("read/", views.mark_read, name="read"),
    path("badge/", views.badge, name="badge"),
]
