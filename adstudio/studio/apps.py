from django.apps import AppConfig


class StudioConfig(AppConfig):
    """The admin's side: model admins, the studio page, timelines, sample selfies, test renders."""

    name = "adstudio.studio"
    label = "studio"
    verbose_name = "Studio"
