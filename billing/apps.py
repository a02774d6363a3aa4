from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register billing's rules into the interfaces the layers below define (they cannot import billing)."""
        from billing.selectors.months import billing_month_closed_from
        from mining.account_moves import month_closed_check_register

        month_closed_check_register(billing_month_closed_from)

        # Issue 20: alerts hold their messages during a maintenance window (mining cannot import billing).
        from billing.alert_suppression import maintenance_reason_at
        from mining.services.incidents import incident_suppressor_register

        incident_suppressor_register(maintenance_reason_at)
