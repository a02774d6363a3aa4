"""Collections (issue 19): reminders before and after the due date on the provider's schedule under a moved clock,
each sent once however often the daily run repeats, none once paid; an optional late fee charged once as an
adjustment of the month; the policy validated field by field."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Adjustment
from billing.models.collections import CollectionPolicy, CollectionStep
from billing.models.invoices import Invoice
from billing.services.collections import PolicyInput, collection_policy_set, collections_run
from billing.services.payments import payment_record
from tenants.models import AuditEntry, OutboundEmail
from tests.billing.helpers import NOW
from tests.billing.invoice_helpers import close_and_issue, customer_held_usd_month, details

pytestmark = pytest.mark.django_db

POLICY = {"reminder_days_before_due": 3, "reminder_days_after_due": "1,7,14", "late_fee_bps": 0,
          "late_fee_after_days": 30, "delinquency_enabled": False, "delinquency_after_days": 30,
          "delinquency_notice_days": 7}


@pytest.fixture
def usd_invoice(world):
    scope, _ = customer_held_usd_month(world)
    details(scope, world.customer_a1, currency="USD", billing_email="ap@carol.example")
    close_and_issue(scope)
    return scope, Invoice.objects.get()  # 480.00 USD due


def _run(invoice, days_from_due: int):
    at = NOW.replace(year=invoice.due_date.year, month=invoice.due_date.month, day=invoice.due_date.day) \
        + timedelta(days=days_from_due)
    return collections_run(provider_id=invoice.provider_id, now=at)


def _subjects() -> list[str]:
    return list(OutboundEmail.objects.order_by("id").values_list("subject", flat=True))


def test_reminders_follow_the_schedule_once_each_and_stop_when_paid(usd_invoice):
    scope, invoice = usd_invoice
    before = OutboundEmail.objects.count()
    assert _run(invoice, -5).reminders == 0
    assert _run(invoice, -3).reminders == 1
    assert _run(invoice, -3).reminders == 0 and _run(invoice, -1).reminders == 0  # once, however often it runs
    assert _run(invoice, 1).reminders == 1
    assert _run(invoice, 3).reminders == 0
    assert _run(invoice, 10).reminders == 1  # the 7-day one, late: sent once, and nothing for days 1-6 again
    sent = _subjects()[before:]
    assert sent == [f"Invoice {invoice.number}: 480.00 USD due on {invoice.due_date:%d %b %Y}",
                    f"Invoice {invoice.number} is overdue: 480.00 USD",
                    f"Invoice {invoice.number} is overdue: 480.00 USD"]
    body = OutboundEmail.objects.order_by("id").last()
    assert body.recipient == "ap@carol.example" and "10 days overdue" in body.body
    assert list(CollectionStep.objects.values_list("kind", "day")) == [
        ("reminder_before", -3), ("reminder_after", 1), ("reminder_after", 7)]
    assert AuditEntry.objects.filter(action="collections.reminder_after").count() == 2

    payment_record(scope=scope, invoice_id=invoice.pk, amount="480.00", currency="USD",
                   paid_at=invoice.due_date + timedelta(days=11), method="bank_transfer", reference="SEPA",
                   now=NOW + timedelta(days=40))
    assert _run(invoice, 20).reminders == 0  # paid: the 14-day reminder never goes out
    assert CollectionStep.objects.count() == 3


def test_a_skipped_day_sends_only_the_latest_reminder_not_a_burst(usd_invoice):
    _, invoice = usd_invoice
    assert _run(invoice, 15).reminders == 1  # beat was down for two weeks
    assert list(CollectionStep.objects.values_list("kind", "day")) == [("reminder_after", 14)]


def test_the_late_fee_is_charged_once_as_an_adjustment_at_the_recorded_price(usd_invoice):
    scope, invoice = usd_invoice
    collection_policy_set(scope=scope, data=PolicyInput(**{**POLICY, "late_fee_bps": 200}), now=NOW)
    assert _run(invoice, 29).late_fees == 0
    assert _run(invoice, 30).late_fees == 1
    assert _run(invoice, 31).late_fees == 0
    fee = Adjustment.objects.get()
    # 2 % of 480.00 USD = 9.60 USD at 60,000 USD a bitcoin = 16,000 sats, owed by the customer.
    assert fee.amount_sats == -16_000 and fee.memo == f"Late fee on invoice {invoice.number}"
    assert fee.period == (invoice.due_date + timedelta(days=30)).replace(day=1)
    step = CollectionStep.objects.get(kind="late_fee")
    assert "Charged 16,000 sats" in step.detail


def test_a_bad_policy_is_refused_field_by_field_and_nothing_is_saved(world):
    from tests.billing.helpers import system_scope

    scope = system_scope(world.provider_a)
    with pytest.raises(ValidationError) as raised:
        collection_policy_set(scope=scope, data=PolicyInput(**{**POLICY, "reminder_days_after_due": "1,x,400",
                                                               "late_fee_bps": 9000, "delinquency_notice_days": 0}),
                              now=NOW)
    assert set(raised.value.message_dict) == {"reminder_days_after_due", "late_fee_bps", "delinquency_notice_days"}
    assert not CollectionPolicy.objects.exists() and not AuditEntry.objects.filter(
        action="collection_policy.set").exists()
    saved = collection_policy_set(scope=scope, data=PolicyInput(**{**POLICY, "reminder_days_after_due": "14, 1,7"}),
                                  now=NOW)
    assert saved.reminder_days_after_due == "1,7,14" and Decimal(saved.late_fee_bps) == 0


def _staff(world, role):
    from tenants import services

    user = services.user_get_or_create(email=f"{role}@collect.example", password="collections-page-pass-1")
    services.provider_membership_grant(provider=world.provider_a, user=user, role=role)
    return user


def test_the_collections_page_saves_the_policy_refuses_bad_fields_and_lists_the_steps(usd_invoice, world, client):
    from tests.fixtures.access import login_verified

    _, invoice = usd_invoice
    _run(invoice, 1)
    login_verified(client, _staff(world, "admin"))
    url = f"/p/{world.provider_a.slug}/billing/collections/"
    page = client.get(url).content.decode()
    assert "Reminder after the due date" in page and invoice.number in page and "Save the policy" in page
    form = {"reminder_days_before_due": "2", "reminder_days_after_due": "1, 10", "late_fee_pct": "1.5",
            "late_fee_after_days": "20", "delinquency_enabled": "on", "delinquency_after_days": "45",
            "delinquency_notice_days": "10"}
    bad = client.post(url, {**form, "reminder_days_after_due": "soon", "late_fee_pct": "80"})
    assert bad.status_code == 200 and not CollectionPolicy.objects.exists()
    text = bad.content.decode()
    assert "Give whole days from 1 to 365" in text and "less than or equal to 50" in text
    assert client.post(url, form).status_code == 302
    policy = CollectionPolicy.objects.get()
    assert (policy.reminder_days_after_due, policy.late_fee_bps, policy.delinquency_enabled) == ("1,10", 150, True)
    assert client.get(f"/p/{world.provider_b.slug}/billing/collections/").status_code == 404  # another tenant


def test_read_only_staff_see_the_policy_but_cannot_change_it(world, client):
    from tests.fixtures.access import login_verified

    login_verified(client, _staff(world, "read_only"))
    url = f"/p/{world.provider_a.slug}/billing/collections/"
    page = client.get(url).content.decode()
    assert "Save the policy" not in page and "Your role can see billing but not change it." in page
    assert client.post(url, {"reminder_days_before_due": "1"}).status_code == 403
    assert not CollectionPolicy.objects.exists()
