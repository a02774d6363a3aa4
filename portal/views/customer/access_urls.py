"""Customer routes of accounts and access, mounted under c/<provider_slug>/<customer_slug>/ (`customer` namespace)."""

from django.urls import path

from portal.views.customer import audit, team

urlpatterns = [
    path("team/", team.team_page, name="team"),
    path("team/<int:pk>/remove/", team.team_remove, name="team_remove"),
    path("invitations/<int:pk>/revoke/", team.invitation_revoke, name="invitation_revoke"),
    path("audit/", audit.customer_audit_log, name="audit_log"),
]
