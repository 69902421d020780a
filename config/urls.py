from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from leadpact.common.views import healthz

api_patterns = [
    path("", include("leadpact.accounts.api_urls")),
    path("", include("leadpact.campaigns.api_urls")),
    path("", include("leadpact.leads.api_urls")),
    path("", include("leadpact.routing.api_urls")),
    path("", include("leadpact.pipeline.api_urls")),
    path("", include("leadpact.scoring.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="leads:list", permanent=False), name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("leadpact.accounts.urls")),
    path("leads/", include("leadpact.leads.urls")),
    path("imports/", include("leadpact.leads.import_urls")),
    path("duplicates/", include("leadpact.leads.duplicate_urls")),
    path("campaigns/", include("leadpact.campaigns.urls")),
    path("routing/", include("leadpact.routing.urls")),
    path("profile/", include("leadpact.scoring.urls")),
    path("notifications/", include("leadpact.notifications.urls")),
    path("pipeline/", include("leadpact.pipeline.urls")),
    path("f/", include("leadpact.leads.form_urls")),
    path("api/", include((api_patterns, "api"), namespace="api")),
    path("admin/", admin.site.urls),
]

handler400 = "leadpact.common.views.bad_request"
handler403 = "leadpact.common.views.permission_denied"
handler404 = "leadpact.common.views.page_not_found"
handler500 = "leadpact.common.views.server_error"
