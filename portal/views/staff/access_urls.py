"""Staff routes of accounts and access, mounted under p/<provider_slug>/ in the `staff` namespace."""

from django.urls import path

from portal.views.staff import accounts, alert_rules, alerts, audit, customers, fleet, statements, team

urlpatterns = [
    path("team/", team.team_page, name="team"),
    path("team/<int:pk>/role/", team.team_role, name="team_role"),
    path("team/<int:pk>/remove/", team.team_remove, name="team_remove"),
    path("team/<int:pk>/reset-second-factor/", team.team_second_factor_reset, name="team_second_factor_reset"),
    path("invitations/<int:pk>/revoke/", team.invitation_revoke, name="invitation_revoke"),
    path("users/<int:pk>/unlock/", team.lockout_clear, name="lockout_clear"),
    path("customers/<slug:customer_slug>/users/", team.customer_users, name="customer_users"),
    path("customers/<slug:customer_slug>/users/<int:pk>/remove/", team.customer_user_remove,
         name="customer_user_remove"),
    path("audit/", audit.staff_audit_log, name="audit_log"),
    # The portal (issue 10): fleet overview, sync now, alerts.
    path("fleet/", fleet.fleet, name="fleet"),
    path("fleet/hashrate/", fleet.fleet_hashrate, name="fleet_hashrate"),
    path("accounts/<int:pk>/sync/", fleet.account_sync, name="account_sync"),
    path("alerts/", alerts.alerts, name="alerts"),
    path("alerts/rows/", alerts.alert_rows, name="alert_rows"),
    path("alerts/<int:pk>/acknowledge/", alerts.alert_ack, name="alert_ack"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/rows/", customers.customer_list, name="customer_rows"),
    path("customers/new/", customers.customer_new, name="customer_new"),
    path("customers/<slug:customer_slug>/", customers.customer_detail, name="customer_detail"),
    path("customers/<slug:customer_slug>/status/", customers.customer_status, name="customer_status"),
    path("accounts/", accounts.accounts, name="accounts"),
    path("accounts/import/", accounts.accounts_import, name="accounts_import"),
    path("accounts/<int:pk>/assign/", accounts.account_assign, name="account_assign"),
    path("alerts/rules/", alert_rules.alert_rules, name="alert_rules"),
    path("alerts/rules/<int:pk>/toggle/", alert_rules.alert_rule_toggle, name="alert_rule_toggle"),
    # Statements (issue 10, billing): months, close, downloads, month exports with progress.
    path("billing/statements/", statements.statements, name="statements"),
    path("billing/statements/<str:period>/", statements.statement_month, name="statement_month"),
    path("billing/statements/<str:period>/close/", statements.statement_month_close, name="statement_month_close"),
    path("billing/statements/<str:period>/summary.csv", statements.statement_month_csv, name="statement_month_csv"),
    path("billing/statements/<str:period>/detail.csv", statements.statement_month_detail_csv,
         name="statement_month_detail_csv"),
    path("billing/statements/<str:period>/exports/", statements.export_job_start_view, name="export_job_start"),
    path("billing/statements/<str:period>/<slug:customer_slug>/", statements.statement_customer,
         name="statement_customer"),
    path("billing/statements/<str:period>/<slug:customer_slug>/pdf/", statements.statement_customer_pdf,
         name="statement_customer_pdf"),
    path("billing/statements/<str:period>/<slug:customer_slug>/csv/", statements.statement_customer_csv,
         name="statement_customer_csv"),
    path("billing/exports/<int:pk>/", statements.export_job, name="export_job"),
    path("billing/exports/<int:pk>/retry/", statements.export_job_retry_view, name="export_job_retry"),
    path("billing/exports/<int:pk>/download/", statements.export_job_download, name="export_job_download"),
]
