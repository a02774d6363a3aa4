"""Telling a provider that some of its e-mail could not be delivered: one alert per provider, opened by beat.

Why an alert and not an e-mail to the owners: the commonest reason mail fails is the mail server itself (down,
refusing the portal's login), and a notice about that sent through the same server would fail too. The alert is
on the staff console's Alerts and Fleet pages whatever the mail server does; its own notice still goes through the
outbox, which helps when only some recipients are refused. The outbox lives in `tenants` (below `mining`), so the
alert is opened here, from beat, and not by the send that failed.

The condition: messages of the provider given up (`failed`) in the last EMAIL_OUTBOX_FAILED_ALERT_DAYS. It clears
when none is left: sent again (`manage.py email_retry_failed`) or older than the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from mining.models import Alert, AlertKind
from mining.services.alerts import alert_notify
from tenants.access import UNSCOPED_across_all_tenants, scope_for_system, scoped
from tenants.models import OutboundEmail, Provider

CONDITION_KEY = "outbox:failed"


def _message(*, slug: str, count: int, first_at: datetime, newest_error: str) -> str:
    plural = "e-mail" if count == 1 else "e-mails"
    return (
        f"{count} {plural} could not be delivered since {first_at:%Y-%m-%d %H:%M} UTC (the newest: "
        f"{newest_error or 'no reason recorded'}). Fix the cause (a recipient's address, or the mail server "
        f"settings EMAIL_URL / DEFAULT_FROM_EMAIL), then send them again: "
        f"python manage.py email_retry_failed --provider {slug} --all"
    )


def alerts_evaluate_undelivered_mail(*, now: datetime | None = None) -> dict[str, int]:
    """Open the alert for each provider with mail given up recently; resolve it where none is left."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.EMAIL_OUTBOX_FAILED_ALERT_DAYS)
    failed = UNSCOPED_across_all_tenants(OutboundEmail, reason="undelivered-mail alerts: counts per provider").filter(
        status=OutboundEmail.Status.FAILED, failed_at__gte=since)
    summary = {row["provider_id"]: row for row in failed.values("provider_id").annotate(
        n=Count("id"), first=Min("failed_at"), newest=Max("failed_at"))}
    open_alerts = UNSCOPED_across_all_tenants(Alert, reason="undelivered-mail alerts: open ones").filter(
        kind=AlertKind.EMAIL_UNDELIVERED, resolved_at__isnull=True)
    already_open = set(open_alerts.values_list("provider_id", flat=True))
    opened = resolved = 0
    for provider_id, row in summary.items():
        if provider_id in already_open:
            continue
        scope = scope_for_system(provider_id=provider_id, actor="task:undelivered_mail_alerts")
        newest = scoped(OutboundEmail, scope).filter(status=OutboundEmail.Status.FAILED, failed_at=row["newest"])
        message = _message(slug=scoped(Provider, scope).values_list("slug", flat=True).get(),
                           count=row["n"], first_at=row["first"],
                           newest_error=newest.values_list("last_error", flat=True).first() or "")
        with transaction.atomic():  # the alert and its notice commit together
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(provider_id=provider_id, kind=AlertKind.EMAIL_UNDELIVERED,
                                                 condition_key=CONDITION_KEY, message=message, opened_at=now)
            except IntegrityError:  # opened meanwhile by another beat tick: one open alert per condition
                continue
            alert_notify(scope=scope, alert_id=alert.pk, event="open", now=now)
            opened += 1
    for alert in open_alerts.exclude(provider_id__in=list(summary)):
        scope = scope_for_system(provider_id=alert.provider_id, actor="task:undelivered_mail_alerts")
        with transaction.atomic():
            if scoped(Alert, scope).filter(pk=alert.pk, resolved_at__isnull=True).update(resolved_at=now):
                alert_notify(scope=scope, alert_id=alert.pk, event="resolve", now=now)
                resolved += 1
    return {"opened": opened, "resolved": resolved}
