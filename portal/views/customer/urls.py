"""Every customer self-service route, mounted under c/<provider_slug>/<customer_slug>/ (`customer` namespace)."""

from django.urls import path

from portal.views.customer import (
    alert_settings,
    audit,
    dashboard,
    links,
    payout,
    rewards,
    share_links,
    statements,
    team,
    workers,
)

urlpatterns = [
    path("team/", team.team_page, name="team"),
    path("team/<int:pk>/remove/", team.team_remove, name="team_remove"),
    path("invitations/<int:pk>/revoke/", team.invitation_revoke, name="invitation_revoke"),
    path("audit/", audit.customer_audit_log, name="audit_log"),
    # The portal (issue 10): dashboard, workers, rewards, watcher links and payout destinations (read-only).
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/hashrate/", dashboard.hashrate, name="hashrate"),
    path("workers/", workers.workers, name="workers"),
    path("workers/rows/", workers.workers_rows, name="workers_rows"),
    path("workers/<int:pk>/", workers.worker_detail, name="worker_detail"),
    path("rewards/", rewards.rewards, name="rewards"),
    path("rewards.csv", rewards.rewards_csv, name="rewards_csv"),
    path("watcher-links/", links.watcher_links, name="watcher_links"),
    path("share-links/", share_links.share_links, name="share_links"),  # issue 21
    path("share-links/<int:pk>/revoke/", share_links.share_link_revoke_view, name="share_link_revoke"),
    path("alert-settings/", alert_settings.alert_settings, name="alert_settings"),
    path("payout/", payout.payout, name="payout"),
    path("payout/changes/<int:pk>/cancel/", payout.payout_change_cancel_view, name="payout_change_cancel"),
    path("statements/", statements.statements, name="statements"),
    path("statements/<str:period>/", statements.statement, name="statement"),
    path("statements/<str:period>/pdf/", statements.statement_pdf, name="statement_pdf"),
    path("statements/<str:period>/csv/", statements.statement_csv, name="statement_csv"),
]
