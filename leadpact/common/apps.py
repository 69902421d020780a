from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "leadpact.common"
    label = "common"
