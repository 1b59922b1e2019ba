from django.apps import AppConfig


class RendersConfig(AppConfig):
    """Fans' ads: the personalise form, the render state machine, its tasks and live progress."""

    name = "adstudio.renders"
    label = "renders"
    verbose_name = "Renders"
