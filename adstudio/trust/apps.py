from django.apps import AppConfig


class TrustConfig(AppConfig):
    """Consent, IP hashing, rate limits, screening of spoken words, upload hygiene and provenance."""

    name = "adstudio.trust"
    label = "trust"
    verbose_name = "Trust"

    def ready(self) -> None:
        from adstudio.trust.screening import SelfieScreen

        # The selfie screen's face analyzer, loaded on its first use and then kept for this process.
        self.selfie_screen = SelfieScreen()
