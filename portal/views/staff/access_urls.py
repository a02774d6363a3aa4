"""Staff routes of accounts and access, mounted under p/<provider_slug>/ in the `staff` namespace."""

from django.urls import path

from portal.views.staff import accounts, alert_rules, alerts, audit, customers, fleet, labels, team, workers

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
    # Labels (site / rack / batch tags) and the staff workers list.
    path("labels/", labels.labels, name="labels"),
    path("labels/<int:pk>/delete/", labels.label_remove, name="label_delete"),
    path("accounts/<int:pk>/labels/", labels.account_labels, name="account_labels"),
    path("workers/", workers.workers, name="workers"),
    path("workers/labels/", labels.worker_labels, name="worker_labels"),
]
