from django.apps import AppConfig


class SharingConfig(AppConfig):
    """What the public sees of a finished ad: share pages, their media, and /verify."""

    name = "adstudio.sharing"
    label = "sharing"
    verbose_name = "Sharing"
