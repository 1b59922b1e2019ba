from django.apps import AppConfig


class AdsConfig(AppConfig):
    """The migration history of the models that lived here before the split into domain apps.

    It has no models: migrations 0001-0004 built the tables (ads_template, ads_render, ...), and 0005 hands
    the models to catalog, renders and trust, which keep those tables. Kept installed so existing databases
    and fresh ones take the same path.
    """

    name = "adstudio.ads"
    label = "ads"
    verbose_name = "Ads (migration history)"
