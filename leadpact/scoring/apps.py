from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "leadpact.scoring"
    label = "scoring"
