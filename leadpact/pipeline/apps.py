from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "leadpact.pipeline"
    label = "pipeline"
    verbose_name = "Pipeline and forecast"
