from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register billing's rules into the interfaces the layers below define (they cannot import billing)."""
        from billing.selectors.months import billing_month_closed_from
        from mining.account_moves import month_closed_check_register

        month_closed_check_register(billing_month_closed_from)
