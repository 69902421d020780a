from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "leadpact.campaigns"
    label = "campaigns"
