"""Sending one alert delivery to its channel: claimed like the outbox claims a message, retried with backoff.

A delivery row is inserted once per (channel, event) in the caller's transaction and handed to
`alert_delivery_send_task` (the `notify` queue) after commit. `alert_delivery_send` claims it with a conditional
UPDATE (queued and due, or sending with an expired lease), so two workers given the same id send it once and a
killed worker's delivery is taken up again when its lease runs out (beat's sweep re-enqueues it). The
`webhook_id` is fixed when the row is made, so every retry of a signed webhook carries the same `webhook-id` and
a receiver can drop a repeat. Like any HTTP delivery it is at least once: a worker killed between the channel's
"200" and the UPDATE that records it sends that one message again, with the same id.

Transient failures (no answer, 5xx, 408, 429) retry on a doubling backoff up to ALERT_DELIVERY_MAX_ATTEMPTS;
permanent ones (other 4xx, a refused address) fail at once. A channel whose deliveries fail
ALERT_CHANNEL_PAUSE_AFTER times in a row is paused and its owner told by e-mail.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from mining.models import AlertChannel, AlertDelivery, ChannelKind
from tenants.access import UNSCOPED_across_all_tenants, scope_for_system, scoped
from tenants.crypto import secret_decrypt
from tenants.email import email_enqueue

logger = logging.getLogger(__name__)
Status = AlertDelivery.Status


def delivery_enqueue(*, channel: AlertChannel, incident, event: str, event_key: str, title: str, text: str,
                     data: dict, now: datetime) -> int | None:
    """Insert the delivery unless this channel already has this event (`ON CONFLICT DO NOTHING`); publish on commit."""
    webhook_id = f"msg_{channel.pk}_{event_key.replace(':', '_')}"[:64]
    payload = {"type": f"incident.{event}" if incident is not None else event, "timestamp": now.isoformat(),
               "title": title, "text": text, "data": data}
    table = connection.ops.quote_name(AlertDelivery._meta.db_table)
    sql = (f"INSERT INTO {table} (provider_id, customer_id, channel_id, incident_id, event, event_key, webhook_id, "  # noqa: S608
           "payload, status, attempts, next_attempt_at, created_at, last_answer, log) "
           "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s, '', '[]') "
           "ON CONFLICT (channel_id, event_key) DO NOTHING RETURNING id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [channel.provider_id, channel.customer_id, channel.pk,
                             incident.pk if incident is not None else None, event, event_key[:200], webhook_id,
                             json.dumps(payload), Status.QUEUED, now, now])
        row = cursor.fetchone()
    if row is None:
        return None
    transaction.on_commit(lambda: _publish([row[0]]))
    return row[0]


def _publish(ids: list[int]) -> None:
    from mining.alert_tasks import alert_delivery_send_task

    for delivery_id in ids:
        try:
            alert_delivery_send_task.delay(delivery_id)
        except Exception:  # a broker that is down delays the message: the committed row is the safety net
            logger.warning("alert delivery %s not handed to a worker; the sweep will send it", delivery_id,
                           exc_info=True)


class TransportError(Exception):
    def __init__(self, why: str, *, permanent: bool, status: str = "error") -> None:
        super().__init__(why)
        self.why, self.permanent, self.status = why, permanent, status


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str  # sent, retry, failed, skipped
    retry_in_s: int | None = None


def _check_target(url: str) -> None:
    """Refuse what a webhook must never reach: plain http and private addresses, unless settings allow (tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not settings.ALERT_WEBHOOK_ALLOW_HTTP):
        raise TransportError("The address must start with https://.", permanent=True)
    if settings.ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname or "", parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise TransportError(f"The host {parts.hostname} could not be found.", permanent=False) from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            raise TransportError(f"{parts.hostname} is a private address; alerts go to public services only.",
                                 permanent=True)


def _post(url: str, *, body: bytes, headers: dict[str, str]) -> tuple[str, str]:
    _check_target(url)
    try:
        answer = requests.post(url, data=body, headers={"Content-Type": "application/json", **headers},
                               timeout=settings.ALERT_DELIVERY_TIMEOUT_S, allow_redirects=False)
    except requests.Timeout as exc:
        raise TransportError("The channel did not answer in time.", permanent=False, status="timeout") from exc
    except requests.RequestException as exc:
        raise TransportError(f"Could not reach the channel ({type(exc).__name__}).", permanent=False) from exc
    said = " ".join(answer.text.split())[:300]
    if 200 <= answer.status_code < 300:
        return str(answer.status_code), said
    transient = answer.status_code >= 500 or answer.status_code in (408, 429)
    raise TransportError(f"The channel answered {answer.status_code}: {said or answer.reason}",
                         permanent=not transient, status=str(answer.status_code))


def _chat_text(payload: dict) -> str:
    return f"{payload['title']}\n{payload['text']}"


def _send(delivery: AlertDelivery) -> tuple[str, str]:
    channel, payload = delivery.channel, delivery.payload
    kind = channel.kind
    if kind == ChannelKind.EMAIL:
        ids = email_enqueue(provider_id=channel.provider_id, customer_id=channel.customer_id,
                            recipients=channel.emails, subject=payload["title"][:255].replace("\n", " "),
                            body=payload["text"], dedupe_key=f"delivery:{delivery.webhook_id}"[:200])
        return "queued", f"handed to the e-mail outbox ({len(ids)} message{'s' if len(ids) != 1 else ''})"
    if kind == ChannelKind.TELEGRAM:
        from mining.services.alert_channels import telegram_token

        token = telegram_token(provider_id=channel.provider_id)
        if not token or not channel.chat_id:
            raise TransportError("No bot token or no bound chat.", permanent=True)
        url = f"{settings.TELEGRAM_API_BASE_URL}/bot{token}/sendMessage"
        body = json.dumps({"chat_id": channel.chat_id, "text": _chat_text(payload),
                           "disable_web_page_preview": True}).encode()
        return _post(url, body=body, headers={})
    url = secret_decrypt(channel.target_encrypted)
    if kind == ChannelKind.SLACK:
        return _post(url, body=json.dumps({"text": _chat_text(payload)}).encode(), headers={})
    if kind == ChannelKind.DISCORD:
        return _post(url, body=json.dumps({"content": _chat_text(payload)[:2000]}).encode(), headers={})
    if kind == ChannelKind.TEAMS:
        return _post(url, body=json.dumps({"title": payload["title"], "text": payload["text"]}).encode(), headers={})
    return _post_signed(url, delivery)


def _post_signed(url: str, delivery: AlertDelivery) -> tuple[str, str]:
    """Standard Webhooks: the body is {type, timestamp, data}; headers webhook-id/-timestamp/-signature."""
    from standardwebhooks.webhooks import Webhook

    payload = delivery.payload
    body = json.dumps({"type": payload["type"], "timestamp": payload["timestamp"],
                       "data": {**payload["data"], "title": payload["title"], "text": payload["text"]}},
                      separators=(",", ":"))
    sent_at = timezone.now()
    signature = Webhook(secret_decrypt(delivery.channel.secret_encrypted)).sign(delivery.webhook_id, sent_at, body)
    headers = {"webhook-id": delivery.webhook_id, "webhook-timestamp": str(int(sent_at.timestamp())),
               "webhook-signature": signature}
    return _post(url, body=body.encode(), headers=headers)


def _backoff_s(attempts: int) -> int:
    base = settings.ALERT_DELIVERY_BACKOFF_BASE_S
    return min(settings.ALERT_DELIVERY_BACKOFF_CAP_S, base * 2 ** max(0, attempts - 1))


def alert_delivery_send(*, delivery_id: int, now: datetime | None = None) -> DeliveryResult:
    """Claim one due delivery, send it, record the attempt (when, status, the channel's answer) on the row."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.ALERT_DELIVERY_CLAIM_S)
    rows = UNSCOPED_across_all_tenants(AlertDelivery, reason="alert delivery: one row by id, claimed, never shown")
    claimable = Q(status=Status.QUEUED, next_attempt_at__lte=now) | Q(status=Status.SENDING, claimed_until__lt=now)
    if not rows.filter(claimable, pk=delivery_id).update(status=Status.SENDING, claimed_until=lease,
                                                         attempts=F("attempts") + 1):
        return DeliveryResult("skipped")
    delivery = rows.select_related("channel").get(pk=delivery_id)
    mine = rows.filter(pk=delivery_id, status=Status.SENDING, claimed_until=lease)
    try:
        if delivery.channel.status == AlertChannel.Status.PAUSED and delivery.event != "test":
            raise TransportError("The channel is paused.", permanent=True, status="paused")
        status, answer = _send(delivery)
    except TransportError as exc:
        entry = {"at": now.isoformat(), "status": exc.status, "answer": exc.why[:300]}
        log = [*delivery.log, entry][-20:]
        if exc.permanent or delivery.attempts >= settings.ALERT_DELIVERY_MAX_ATTEMPTS:
            mine.update(status=Status.FAILED, claimed_until=None, last_answer=exc.why[:500], log=log)
            if exc.status != "paused":
                channel_failure_record(channel_id=delivery.channel_id, why=exc.why, now=now)
            return DeliveryResult("failed")
        retry_in = _backoff_s(delivery.attempts)
        mine.update(status=Status.QUEUED, claimed_until=None, last_answer=exc.why[:500], log=log,
                    next_attempt_at=now + timedelta(seconds=retry_in))
        return DeliveryResult("retry", retry_in_s=retry_in)
    log = [*delivery.log, {"at": now.isoformat(), "status": status, "answer": answer[:300]}][-20:]
    mine.update(status=Status.SENT, claimed_until=None, sent_at=now, last_answer=answer[:500], log=log)
    UNSCOPED_across_all_tenants(AlertChannel, reason="delivery: reset its channel's failure count").filter(
        pk=delivery.channel_id, failures_in_row__gt=0).update(failures_in_row=0)
    return DeliveryResult("sent")


def channel_failure_record(*, channel_id: int, why: str, now: datetime) -> bool:
    """Count a permanent failure; pause the channel at ALERT_CHANNEL_PAUSE_AFTER in a row and tell its owner once."""
    channels = UNSCOPED_across_all_tenants(AlertChannel, reason="delivery: count its channel's failures")
    channels.filter(pk=channel_id).update(failures_in_row=F("failures_in_row") + 1)
    with transaction.atomic():
        paused = channels.filter(pk=channel_id, status=AlertChannel.Status.ACTIVE,
                                 failures_in_row__gte=settings.ALERT_CHANNEL_PAUSE_AFTER).update(
            status=AlertChannel.Status.PAUSED, paused_reason=why[:500])
        if paused:
            channel = channels.select_related("created_by").get(pk=channel_id)
            _tell_owner(channel, why, now)
    return bool(paused)


def _tell_owner(channel: AlertChannel, why: str, now: datetime) -> None:
    from mining.services.alerts import alert_email_recipients

    scope = scope_for_system(provider_id=channel.provider_id)
    owner = channel.created_by.email if channel.created_by_id and channel.created_by.email else ""
    if owner:
        recipients = [owner]
    else:
        from tenants.models import Customer

        customer = scoped(Customer, scope).filter(pk=channel.customer_id).first() if channel.customer_id else None
        staff, customer_side = alert_email_recipients(provider_id=channel.provider_id, rule=None, customer=customer)
        recipients = customer_side if customer else staff
    email_enqueue(provider_id=channel.provider_id, customer_id=channel.customer_id, recipients=recipients,
                  subject=f"Alert channel paused: {channel.name}"[:255].replace("\n", " "),
                  body=(f"The {channel.get_kind_display()} channel “{channel.name}” failed "
                        f"{settings.ALERT_CHANNEL_PAUSE_AFTER} times in a row and is paused; alerts no longer go "
                        f"there. The last answer: {why}\nFix it, then resume it on the alert channels page."),
                  dedupe_key=f"channel-paused:{channel.pk}:{now:%Y%m%d%H%M%S}", now=now)


def alert_deliveries_sweep(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Beat's safety net: re-enqueue deliveries whose task was lost or whose worker was killed (lease expired)."""
    now = now or timezone.now()
    rows = UNSCOPED_across_all_tenants(AlertDelivery, reason="delivery sweep: ids only, each claimed by id")
    overdue = now - timedelta(seconds=settings.ALERT_DELIVERY_SWEEP_AFTER_S)
    ids = list(rows.filter(Q(status=Status.QUEUED, next_attempt_at__lte=overdue)
                           | Q(status=Status.SENDING, claimed_until__lt=now))
               .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    if ids:
        _publish(ids)
    return ids
