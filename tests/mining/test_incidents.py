"""The incident life cycle under a moved clock (issue 20): sustain, grouping, repeat, acknowledge, recovery, mute,
maintenance suppression; one message per incident event and channel, in words, in the reader's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from billing.models import MaintenanceWindow
from mining.models import AlertDelivery, AlertKind, AlertRule, Incident, MiningAccount, Worker
from mining.services.alert_channels import alert_mute_create
from mining.services.alerts import alerts_evaluate_account
from mining.services.incidents import incidents_tick
from mining.services.operations import alert_acknowledge
from tenants.access import scope_for_system
from tests.fixtures.mail import outbox_deliver
from tests.mining.alert_helpers import channel_make, deliver_due, offline, online

T0 = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # 14:00 in Berlin (CET)


@pytest.fixture
def site(world, alert_stub):
    account = MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name="acct_004",
                                           last_synced_at=T0 + timedelta(days=1))  # never stale in these tests
    workers = {n: Worker.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account,
                                        name=n, status=Worker.Status.ONLINE, first_seen_at=T0 - timedelta(days=1))
               for n in ("worker_001", "worker_002", "worker_003", "worker_007")}
    rule = AlertRule.objects.create(provider=world.provider_a, kind=AlertKind.WORKER_OFFLINE, duration_minutes=10,
                                    notify_customer=False)
    slack = channel_make(world, url=alert_stub.base + "/slack/T000/B000/XXXX")
    return type("Site", (), {"account": account, "w": workers, "rule": rule, "slack": slack, "stub": alert_stub})


def _evaluate(world, site, at: datetime) -> dict:
    with time_machine.travel(at, tick=False):
        report = alerts_evaluate_account(scope=scope_for_system(provider_id=world.provider_a.pk),
                                         account_id=site.account.pk)
        deliver_due()
        outbox_deliver(now=timezone.now())
    return report


def _texts(stub) -> list[str]:
    return [s.json()["text"] for s in stub.posts("/XXXX")]


def test_the_life_of_an_incident(world, site):
    w = site.w
    offline([w["worker_001"], w["worker_003"], w["worker_007"]], T0)
    # Sustain: 5 minutes offline is not yet an incident; nothing is said.
    _evaluate(world, site, T0 + timedelta(minutes=5))
    assert not Incident.objects.exists() and site.stub.seen == [] and mail.outbox == []
    # 12 minutes: one incident for the three, one Slack message and one e-mail per staff recipient.
    _evaluate(world, site, T0 + timedelta(minutes=12))
    incident = Incident.objects.get()
    assert incident.members == ["worker_001", "worker_003", "worker_007"]
    assert incident.summary == "3 workers offline on acct_004"
    [text] = _texts(site.stub)
    assert text.startswith("[Alpha Hosting] Alert: 3 workers offline on acct_004\n"
                           "3 workers offline on acct_004: worker_001, worker_003, worker_007, the first for 12 minutes"
                           " (since 14:00 CET, 4 Dec 2026).")
    assert text.endswith("/p/alpha/alerts/")
    assert [m.to for m in mail.outbox] == [["alice@alpha.example"]]  # one e-mail, not one per worker
    assert mail.outbox[0].subject == "[Alpha Hosting] Alert: 3 workers offline on acct_004"
    # Re-evaluating says nothing new; a fourth worker joins the same incident without a message of its own.
    offline([w["worker_002"]], T0 + timedelta(minutes=5))
    _evaluate(world, site, T0 + timedelta(minutes=13))
    _evaluate(world, site, T0 + timedelta(minutes=16))
    incident.refresh_from_db()
    assert incident.members == ["worker_001", "worker_002", "worker_003", "worker_007"]
    assert len(_texts(site.stub)) == 1 and len(mail.outbox) == 1
    assert Incident.objects.count() == 1
    # One worker comes back: it leaves the incident, which stays open.
    online([w["worker_003"]])
    _evaluate(world, site, T0 + timedelta(minutes=30))
    incident.refresh_from_db()
    assert incident.members == ["worker_001", "worker_002", "worker_007"] and incident.resolved_at is None
    # An hour after it fired it repeats, with the current members.
    _evaluate(world, site, T0 + timedelta(minutes=71))
    assert len(_texts(site.stub)) == 1
    _evaluate(world, site, T0 + timedelta(minutes=73))
    texts = _texts(site.stub)
    assert len(texts) == 2 and texts[1].startswith("[Alpha Hosting] Still open: 3 workers offline on acct_004\n"
                                                   "3 workers offline on acct_004: worker_001, worker_002, worker_007,"
                                                   " the first for 1 hour 13 minutes")
    # Acknowledged: no more repeats, even hours later.
    alert = incident.alerts.filter(resolved_at__isnull=True).first()
    with time_machine.travel(T0 + timedelta(minutes=80), tick=False):
        alert_acknowledge(scope=world.scope(world.alice, world.provider_a), alert_id=alert.pk, now=timezone.now())
    _evaluate(world, site, T0 + timedelta(hours=3))
    with time_machine.travel(T0 + timedelta(hours=4), tick=False):
        incidents_tick()
    assert len(_texts(site.stub)) == 2
    # Everyone back: one recovery message, in words, and the incident is history.
    online([w["worker_001"], w["worker_002"], w["worker_007"]])
    _evaluate(world, site, T0 + timedelta(hours=4, minutes=5))
    incident.refresh_from_db()
    assert incident.resolved_at == T0 + timedelta(hours=4, minutes=5)
    texts = _texts(site.stub)
    assert len(texts) == 3 and texts[2].startswith("[Alpha Hosting] Recovered: 4 workers were offline on acct_004\n")
    assert "It lasted 4 hours 5 minutes (since 14:00 CET, 4 Dec 2026)." in texts[2]
    assert [m.subject for m in mail.outbox][-1] == "[Alpha Hosting] Recovered: 4 workers were offline on acct_004"
    # Every delivery once per event and channel.
    assert list(AlertDelivery.objects.order_by("pk").values_list("event_key", "status")) == [
        (f"incident:{incident.pk}:fire", "sent"), (f"incident:{incident.pk}:repeat:1", "sent"),
        (f"incident:{incident.pk}:recover", "sent")]


def test_repeat_off_and_a_per_rule_repeat(world, site):
    AlertRule.objects.filter(pk=site.rule.pk).update(repeat_s=0)
    offline([site.w["worker_001"]], T0)
    _evaluate(world, site, T0 + timedelta(minutes=11))
    _evaluate(world, site, T0 + timedelta(hours=5))
    assert len(_texts(site.stub)) == 1  # repeat off: told once
    AlertRule.objects.filter(pk=site.rule.pk).update(repeat_s=600)
    _evaluate(world, site, T0 + timedelta(hours=5, minutes=1))
    assert len(_texts(site.stub)) == 2 and "1 worker offline on acct_004: worker_001" in _texts(site.stub)[1]


def test_a_muted_account_holds_its_messages_until_the_mute_ends(world, site):
    with time_machine.travel(T0, tick=False):
        alert_mute_create(scope=world.scope(world.alice, world.provider_a), account_id=site.account.pk,
                          until_at=T0 + timedelta(hours=1), reason="rack rewiring")
    offline([site.w["worker_001"]], T0)
    _evaluate(world, site, T0 + timedelta(minutes=15))
    incident = Incident.objects.get()
    assert incident.suppressed_reason == "account muted" and incident.fired_at is None and site.stub.seen == []
    with time_machine.travel(T0 + timedelta(minutes=61), tick=False):
        assert incidents_tick() == {"fired": 1}  # beat fires it once the mute is over, without a sync
        deliver_due()
    assert len(_texts(site.stub)) == 1 and "the first for 1 hour 1 minute" in _texts(site.stub)[0]


def test_a_muted_worker_leaves_the_message_and_a_cleared_held_incident_says_nothing(world, site):
    with time_machine.travel(T0, tick=False):
        alert_mute_create(scope=world.scope(world.alice, world.provider_a), worker_id=site.w["worker_003"].pk,
                          until_at=T0 + timedelta(days=1))
    offline([site.w["worker_003"]], T0)
    _evaluate(world, site, T0 + timedelta(minutes=15))
    assert Incident.objects.get().suppressed_reason == "workers muted" and site.stub.seen == []
    offline([site.w["worker_001"]], T0 + timedelta(minutes=1))
    _evaluate(world, site, T0 + timedelta(minutes=20))
    [text] = _texts(site.stub)
    assert "1 worker offline on acct_004: worker_001, the first for 19 minutes" in text and "worker_003" not in text
    online([site.w["worker_001"], site.w["worker_003"]])
    _evaluate(world, site, T0 + timedelta(minutes=30))
    assert len(_texts(site.stub)) == 2 and "Recovered" in _texts(site.stub)[1]


def test_maintenance_windows_suppress_then_it_fires_if_still_open(world, site):
    MaintenanceWindow.objects.create(provider=world.provider_a, customer=world.customer_a1, starts_at=T0,
                                     ends_at=T0 + timedelta(hours=2), reason="PDU swap", created_at=T0)
    offline([site.w["worker_001"], site.w["worker_002"]], T0)
    _evaluate(world, site, T0 + timedelta(minutes=30))
    incident = Incident.objects.get()
    assert incident.suppressed_reason == "maintenance: PDU swap" and site.stub.seen == [] and mail.outbox == []
    _evaluate(world, site, T0 + timedelta(hours=2, minutes=1))
    assert len(_texts(site.stub)) == 1 and "2 workers offline" in _texts(site.stub)[0]


def test_an_incident_that_clears_during_maintenance_is_never_told(world, site):
    MaintenanceWindow.objects.create(provider=world.provider_a, starts_at=T0, ends_at=T0 + timedelta(hours=2),
                                     reason="firmware", created_at=T0)  # every customer
    offline([site.w["worker_001"]], T0)
    _evaluate(world, site, T0 + timedelta(minutes=30))
    online([site.w["worker_001"]])
    _evaluate(world, site, T0 + timedelta(minutes=50))
    assert Incident.objects.get().resolved_at is not None
    assert site.stub.seen == [] and mail.outbox == []


def test_hashrate_drop_in_words(world, site):
    from decimal import Decimal

    from mining.models import AccountHashrateSample, Interval

    PH = Decimal(10) ** 15
    AlertRule.objects.create(provider=world.provider_a, account=site.account, kind=AlertKind.HASHRATE_DROP,
                             drop_bps=5000, duration_minutes=10, notify_customer=False)
    end = T0
    values = [Decimal("1.0212") * PH] * 280 + [Decimal("0.3") * PH] * 3
    start = end - timedelta(minutes=5 * (len(values) - 1))
    AccountHashrateSample.objects.bulk_create([AccountHashrateSample(
        provider=world.provider_a, customer=world.customer_a1, account=site.account, interval=Interval.M5,
        at=start + timedelta(minutes=5 * i), hashrate_hs=v) for i, v in enumerate(values)])
    _evaluate(world, site, T0 + timedelta(minutes=2))
    [text] = _texts(site.stub)
    assert "acct_004: hashrate under 50 % of its 24-hour mean of 1.01 PH/s for 10 minutes" in text
