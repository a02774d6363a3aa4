"""Helpers for the incident and channel tests: make workers go offline, run the deliveries as a worker would."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from mining.models import AlertChannel, AlertDelivery, ChannelKind, Worker
from mining.services.alert_transport import alert_delivery_send
from tenants.crypto import secret_encrypt


def deliver_due(now: datetime | None = None) -> list[str]:
    """One send attempt for every queued delivery that is due, as the `notify` workers would."""
    now = now or timezone.now()
    due = AlertDelivery.objects.filter(status=AlertDelivery.Status.QUEUED, next_attempt_at__lte=now).order_by("pk")
    return [alert_delivery_send(delivery_id=pk, now=now).outcome for pk in due.values_list("pk", flat=True)]


def channel_make(world, *, kind=ChannelKind.SLACK, url="", customer=None, tz="Europe/Berlin", **extra) -> AlertChannel:
    fields = {"target_encrypted": secret_encrypt(url), "target_hint": url[-8:]} if url else {}
    return AlertChannel.objects.create(provider=world.provider_a, customer=customer, kind=kind, name=f"{kind} test",
                                       timezone=tz, created_at=timezone.now(), created_by=world.alice,
                                       **fields, **extra)


def offline(workers: list[Worker], since: datetime) -> None:
    Worker.objects.filter(pk__in=[w.pk for w in workers]).update(status=Worker.Status.OFFLINE, offline_since_at=since)


def online(workers: list[Worker]) -> None:
    Worker.objects.filter(pk__in=[w.pk for w in workers]).update(status=Worker.Status.ONLINE, offline_since_at=None)
