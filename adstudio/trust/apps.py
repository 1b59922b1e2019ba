from django.apps import AppConfig


class TrustConfig(AppConfig):
    """Consent, IP hashing, rate limits, screening of spoken words, upload hygiene and provenance."""

    name = "adstudio.trust"
    label = "trust"
    verbose_name = "Trust"
