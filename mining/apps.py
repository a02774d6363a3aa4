from django.apps import AppConfig


class MiningConfig(AppConfig):
    name = "mining"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect beat's stale-sync watch to `beat_init` (only beat sends it); needs the models, hence here."""
        from mining import beat_watch  # noqa: F401
