from django.apps import AppConfig


class AdsConfig(AppConfig):
    name = "adstudio.ads"
    label = "ads"
    verbose_name = "Ads"
