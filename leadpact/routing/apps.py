from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "leadpact.routing"
    label = "routing"
    verbose_name = "Routing and SLAs"
