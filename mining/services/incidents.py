"""Incidents: the open alerts of one account, kind and rule, told to people once, repeated, and recovered.

Why: seven offline machines used to send one e-mail per worker per recipient. Now `incidents_refresh` (called at
the end of every alert evaluation, in its transaction) groups the account's open alerts by (kind, rule, account)
into one open incident (a partial unique index keeps it one), keeps its member list current as workers join or
leave, resolves it when its last alert clears and queues one recovery message. `incident_dispatch` fires it (the
rule's sustain time is already in its condition: "offline for 10 minutes"), repeats it every `repeat_s` while it is
open and nobody acknowledged it, and holds everything while it is suppressed (a mute on the worker, account or
rule, or a maintenance window: the billing app registers that check, it sits above this one). Every message is a
row first: e-mail through the outbox with a dedupe key, channels as `AlertDelivery` rows unique per channel and
event, so a re-run evaluation or a second beat tick queues nothing twice. Beat's `incidents_tick` fires and repeats
incidents whose account is not being synced (a quiet fleet still hears its hourly repeat).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from mining.alert_words import duration_words, when_words
from mining.models import Alert, AlertChannel, AlertKind, AlertMute, Incident, Worker
from mining.services.alert_transport import delivery_enqueue
from tenants.access import Scope, UNSCOPED_across_all_tenants, scope_for_system, scoped
from tenants.email import email_enqueue
from tenants.models import Customer, Provider

logger = logging.getLogger(__name__)

Suppressor = Callable[[Scope, int | None, datetime], str | None]
SUPPRESSORS: list[Suppressor] = []


def incident_suppressor_register(check: Suppressor) -> None:
    """Apps above mining (billing's maintenance windows) add a check: (scope, customer_id, now) -> reason or None."""
    if check not in SUPPRESSORS:
        SUPPRESSORS.append(check)


def _group_key(alert: Alert) -> str:
    return f"{alert.kind}:{alert.rule_id or 0}:{alert.account_id or 0}"


def _active_mutes(scope: Scope, now: datetime) -> dict[str, set[int]]:
    mutes = scoped(AlertMute, scope).filter(until_at__gt=now).values_list("worker_id", "account_id", "rule_id")
    found: dict[str, set[int]] = {"worker": set(), "account": set(), "rule": set()}
    for worker_id, account_id, rule_id in mutes:
        for name, value in (("worker", worker_id), ("account", account_id), ("rule", rule_id)):
            if value:
                found[name].add(value)
    return found


def _member_name(alert: Alert) -> str:
    if alert.worker_id:
        return alert.worker.name
    return alert.account.name if alert.account_id else alert.get_kind_display()


def incidents_refresh(*, scope: Scope, account_id: int | None, now: datetime | None = None) -> dict[str, int]:
    """Bring the incidents of one account (None: the provider's own, e.g. undelivered mail) in step with its alerts."""
    now = now or timezone.now()
    alerts = list(scoped(Alert, scope).filter(account_id=account_id, resolved_at__isnull=True)
                  .select_related("worker", "account", "rule").order_by("pk"))
    groups: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        groups[_group_key(alert)].append(alert)
    incidents = {i.group_key: i for i in scoped(Incident, scope).filter(account_id=account_id,
                                                                          resolved_at__isnull=True)}
    counts = {"opened": 0, "resolved": 0}
    for key, members in groups.items():
        incident = incidents.get(key)
        if incident is None:
            incident = _incident_open(scope, members[0], key, now)
            if incident is None:
                continue
            counts["opened"] += 1
        scoped(Alert, scope).filter(pk__in=[a.pk for a in members]).exclude(incident=incident).update(
            incident=incident)
        names = sorted(_member_name(a) for a in members)
        began = min(_since(incident, members), incident.began_at or now)
        if names != incident.members or began != incident.began_at:
            incident.members, incident.began_at = names, began
            incident.summary = _title(incident, len(names))
            scoped(Incident, scope).filter(pk=incident.pk).update(members=names, summary=incident.summary,
                                                                  began_at=began)
        incidents[key] = incident
    for key, incident in list(incidents.items()):
        if key not in groups:
            if scoped(Incident, scope).filter(pk=incident.pk, resolved_at__isnull=True).update(resolved_at=now):
                counts["resolved"] += 1
                incident.resolved_at = now
                if incident.fired_at is not None:
                    _tell(scope, incident, "recover", "recover", now, members=alerts_of(scope, incident))
            del incidents[key]
    for incident in incidents.values():
        incident_dispatch(scope=scope, incident=incident, now=now, members=groups.get(incident.group_key))
    return counts


def alerts_of(scope: Scope, incident: Incident) -> list[Alert]:
    return list(scoped(Alert, scope).filter(incident=incident).select_related("worker", "account", "rule")
                .order_by("pk"))


def _incident_open(scope: Scope, first: Alert, key: str, now: datetime) -> Incident | None:
    try:
        with transaction.atomic():
            return Incident.objects.create(
                provider_id=scope.provider_id, customer_id=first.customer_id, account_id=first.account_id,
                rule_id=first.rule_id, kind=first.kind, group_key=key, opened_at=now)
    except IntegrityError:  # opened by a concurrent evaluation of the same account: that one owns it
        return None


def _title(incident: Incident, count: int) -> str:
    account = incident.account.name if incident.account_id else ""
    if incident.kind == AlertKind.WORKER_OFFLINE:
        return f"{count} worker{'s' if count != 1 else ''} offline on {account}"
    if incident.kind in (AlertKind.HASHRATE_FLOOR, AlertKind.HASHRATE_DROP):
        return f"{account}: hashrate low"
    if incident.kind == AlertKind.SYNC_STALE:
        return f"{account}: not synced"
    return dict(AlertKind.choices).get(incident.kind, incident.kind)


def _suppression(scope: Scope, incident: Incident, members: list[Alert], now: datetime) -> str:
    mutes = _active_mutes(scope, now)
    if incident.rule_id in mutes["rule"]:
        return "rule muted"
    if incident.account_id in mutes["account"]:
        return "account muted"
    if members and all(a.worker_id and a.worker_id in mutes["worker"] for a in members):
        return "workers muted"
    for check in SUPPRESSORS:
        reason = check(scope, incident.customer_id, now)
        if reason:
            return reason
    return ""


def _repeat_s(incident: Incident) -> int:
    if incident.rule_id:
        return incident.rule.repeat_s
    return settings.ALERT_REPEAT_DEFAULT_S


def incident_dispatch(*, scope: Scope, incident: Incident, now: datetime, members: list[Alert] | None = None) -> str:
    """Fire, repeat or hold one open incident; returns what it did ('fired', 'repeated', 'suppressed', '')."""
    if incident.resolved_at is not None:
        return ""
    members = members if members is not None else alerts_of(scope, incident)
    muted_workers = _active_mutes(scope, now)["worker"]
    speaking = [a for a in members if not (a.worker_id and a.worker_id in muted_workers)]
    reason = _suppression(scope, incident, members, now)
    if reason != incident.suppressed_reason:
        scoped(Incident, scope).filter(pk=incident.pk).update(suppressed_reason=reason)
        incident.suppressed_reason = reason
    if reason:
        return "suppressed"
    if incident.fired_at is None:
        if scoped(Incident, scope).filter(pk=incident.pk, fired_at__isnull=True).update(fired_at=now,
                                                                                       last_sent_at=now):
            incident.fired_at = incident.last_sent_at = now
            _tell(scope, incident, "fire", "fire", now, members=speaking)
            return "fired"
        return ""
    repeat_s = _repeat_s(incident)
    if incident.acknowledged_at or not repeat_s or incident.last_sent_at + timedelta(seconds=repeat_s) > now:
        return ""
    n = incident.repeats + 1
    if scoped(Incident, scope).filter(pk=incident.pk, repeats=incident.repeats, resolved_at__isnull=True).update(
            repeats=n, last_sent_at=now):
        incident.repeats, incident.last_sent_at = n, now
        _tell(scope, incident, "repeat", f"repeat:{n}", now, members=speaking)
        return "repeated"
    return ""


# --- what is said, and to whom -----------------------------------------------------------------------------------


def _since(incident: Incident, members: list[Alert]) -> datetime:
    """When the condition began: the earliest member's own start (offline since, or opened less the sustain)."""
    starts = []
    for a in members:
        if a.worker_id and a.worker.offline_since_at:
            starts.append(a.worker.offline_since_at)
        elif a.rule_id:
            starts.append(a.opened_at - timedelta(minutes=a.rule.duration_minutes))
        else:
            starts.append(a.opened_at)
    return min(starts, default=incident.opened_at)


def incident_text(incident: Incident, event: str, members: list[Alert], now: datetime, tz_name: str,
                  link: str) -> tuple[str, str]:
    """(title, body) in words, times in `tz_name`, ending with the link to the page that shows it."""
    names = sorted(_member_name(a) for a in members) or list(incident.members)
    title = _title(incident, len(names))
    # Fire and repeat speak of the members speaking now; the recovery of the whole incident, from its start.
    since = (incident.began_at or _since(incident, members)) if event == "recover" else _since(incident, members)
    listed = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    if event == "recover":
        title = f"Recovered: {title.replace(' offline on ', ' were offline on ')}"
        body = f"{title}. It lasted {duration_words(now - since)} (since {when_words(since, tz_name)})."
    else:
        lead = "Still open" if event == "repeat" else "Alert"
        if incident.kind == AlertKind.WORKER_OFFLINE:
            detail = f"{title}: {listed}, the first for {duration_words(now - since)}"
        else:
            detail = (" ".join(a.message for a in members) or title).rstrip(".")
            if event == "repeat":
                detail += f"; open for {duration_words(now - since)} now"
        title = f"{lead}: {title}"
        body = f"{detail} (since {when_words(since, tz_name)})."
        if incident.acknowledged_at:
            body += " Someone is on it."
    return title, f"{body}\n{link}"


def _link(provider_slug: str, customer_slug: str | None) -> str:
    if customer_slug:
        path = reverse("customer:alerts", kwargs={"provider_slug": provider_slug, "customer_slug": customer_slug})
    else:
        path = reverse("staff:alerts", kwargs={"provider_slug": provider_slug})
    return settings.PORTAL_BASE_URL + path


def incident_channels(scope: Scope, incident: Incident) -> list[AlertChannel]:
    """Where the incident goes: the rule's channels (else every provider channel that takes its kind), and the
    customer's own channels that take its kind when the rule tells the customer."""
    active = scoped(AlertChannel, scope).filter(status=AlertChannel.Status.ACTIVE)
    rule = incident.rule if incident.rule_id else None
    routed = list(rule.channels.filter(status=AlertChannel.Status.ACTIVE, customer__isnull=True)) if rule else []
    provider_side = routed or [c for c in active.filter(customer__isnull=True) if _takes(c, incident.kind)]
    customer_side = []
    if incident.customer_id and (rule is None or rule.notify_customer):
        customer_side = [c for c in active.filter(customer_id=incident.customer_id) if _takes(c, incident.kind)]
    return sorted(provider_side, key=lambda c: c.pk) + sorted(customer_side, key=lambda c: c.pk)


def _takes(channel: AlertChannel, kind: str) -> bool:
    return not channel.kinds or kind in channel.kinds


def _tell(scope: Scope, incident: Incident, event: str, key: str, now: datetime, *, members: list[Alert]) -> None:
    """Queue this event's messages once: the built-in e-mail and each routed channel (rows, sent after commit)."""
    from mining.services.alerts import alert_email_recipients

    provider = scoped(Provider, scope).get()
    customer = scoped(Customer, scope).filter(pk=incident.customer_id).first() if incident.customer_id else None
    provider_name = " ".join(provider.name.split())
    for channel in incident_channels(scope, incident):
        link = _link(provider.slug, customer.slug if customer and channel.customer_id else None)
        title, body = incident_text(incident, event, members, now, channel.timezone or provider.timezone, link)
        delivery_enqueue(channel=channel, incident=incident, event=event, event_key=f"incident:{incident.pk}:{key}",
                         title=f"[{provider_name}] {title}", text=body, data=_data(incident, event, members, link),
                         now=now)
    staff, customer_side = alert_email_recipients(provider_id=provider.pk, rule=incident.rule, customer=customer)
    for address in staff + customer_side:
        is_customer = address in customer_side
        link = _link(provider.slug, customer.slug if is_customer and customer else None)
        tz_name = _zone_of_address(scope, address) or provider.timezone
        title, body = incident_text(incident, event, members, now, tz_name, link)
        email_enqueue(provider_id=provider.pk, customer_id=customer.pk if is_customer and customer else None,
                      recipients=[address], subject=f"[{provider_name}] {title}"[:255], body=body,
                      dedupe_key=f"incident:{incident.pk}:{key}", now=now)


def _zone_of_address(scope: Scope, address: str) -> str:
    from tenants.models import UserPreference

    return (UserPreference.objects.filter(user__email__iexact=address).values_list("timezone", flat=True).first()
            or "")


def _data(incident: Incident, event: str, members: list[Alert], link: str) -> dict:
    """The documented JSON body of the signed webhook (docs/ALERTS.md)."""
    return {
        "incident_id": incident.pk, "event": event, "kind": incident.kind,
        "account": incident.account.name if incident.account_id else None,
        "customer_id": incident.customer_id, "rule_id": incident.rule_id,
        "members": sorted(_member_name(a) for a in members),
        "opened_at": incident.opened_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "acknowledged": incident.acknowledged_at is not None, "url": link,
    }


def incidents_tick(*, now: datetime | None = None, limit: int = 2000) -> dict[str, int]:
    """Beat: fire incidents a mute or maintenance held and repeat open ones, for every provider."""
    now = now or timezone.now()
    rows = UNSCOPED_across_all_tenants(Incident, reason="incident tick: ids per provider, each handled in its scope")
    due = rows.filter(resolved_at__isnull=True).filter(
        Q(fired_at__isnull=True) | Q(acknowledged_at__isnull=True)).values_list("provider_id", "pk")[:limit]
    done: dict[str, int] = defaultdict(int)
    for provider_id, incident_id in due:
        scope = scope_for_system(provider_id=provider_id, actor="task:incidents_tick")
        with transaction.atomic():
            incident = scoped(Incident, scope).select_related("rule", "account").filter(pk=incident_id).first()
            if incident is not None:
                outcome = incident_dispatch(scope=scope, incident=incident, now=now)
                if outcome:
                    done[outcome] += 1
    return dict(done)


def incident_acknowledge(*, scope: Scope, incident_id: int, user_id: int | None, now: datetime) -> int:
    """Acknowledging stops repeats (the recovery is still sent). Called by `alert_acknowledge` for its incident."""
    return scoped(Incident, scope).filter(pk=incident_id, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by_id=user_id)


__all__ = ["SUPPRESSORS", "Worker", "incident_acknowledge", "incident_channels", "incident_dispatch",
           "incident_suppressor_register", "incidents_refresh", "incidents_tick"]
