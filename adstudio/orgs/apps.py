from django.apps import AppConfig


class OrgsConfig(AppConfig):
    """Brands and agencies: organisations and their API keys (issue 14)."""

    name = "adstudio.orgs"
    label = "orgs"
    verbose_name = "Organisations"
    default_auto_field = "django.db.models.BigAutoField"
