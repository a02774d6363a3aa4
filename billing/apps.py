from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Issue 20: alerts hold their messages during a maintenance window (mining cannot import billing).
        from billing.alert_suppression import maintenance_reason_at
        from mining.services.incidents import incident_suppressor_register

        incident_suppressor_register(maintenance_reason_at)
