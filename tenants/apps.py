from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Celery's autodiscovery imports only `tasks` modules; the e-mail tasks of accounts and access live apart.
        from tenants import access_tasks  # noqa: F401
