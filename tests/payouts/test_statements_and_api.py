"""Held payout changes in the REST API (PUT answers 202 with the pending change; nothing reaches the pool) and in
the statements (the contract's own-address list follows the applied address from the applied day on)."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from rest_framework.test import APIClient

from billing.models import ContractVersion
from billing.records import PAID_TO_CUSTOMER, PAID_TO_PROVIDER
from billing.services.contracts import ContractTerms, contract_version_create
from billing.statements import statements_compute
from mining.models import PayoutChange
from tenants.access import scope_for_system
from tenants.models import AuditEntry
from tenants.tokens import api_token_create
from tests.billing.factories import reward_make
from tests.fixtures.access import login_verified
from tests.payouts.helpers import GOOD, OTHER, START, sweep


def _token(pw, **kw) -> APIClient:
    plain = api_token_create(scope=scope_for_system(provider_id=pw.pp.provider.pk, actor="test"), name="crm",
                             scopes="read,write", customer_id=kw.get("customer_id"), expires_in_days=None).plaintext
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + plain)
    return client


def test_the_api_put_holds_the_change_and_answers_202_with_it(pw):
    api = _token(pw)
    url = f"/api/v1/mining-accounts/{pw.account.pk}/payout-destination/"
    assert api.get(url).json()["pending_change"] is None
    bad = api.put(url, {"destination": "external_address", "address": GOOD[:-1] + "p"}, format="json",
                  HTTP_IDEMPOTENCY_KEY="p-0")
    assert bad.status_code == 400 and "checksum" in bad.json()["error"]["fields"]["address"][0]
    done = api.put(url, {"destination": "external_address", "address": GOOD}, format="json",
                   HTTP_IDEMPOTENCY_KEY="p-1")
    assert done.status_code == 202, done.content
    body = done.json()
    change = PayoutChange.objects.get()
    assert body["destination"] != "external_address" and body["address"] == ""  # not yet: held
    pending = body["pending_change"]
    assert pending["id"] == change.pk and pending["status"] == "held" and pending["address"] == GOOD
    assert pending["requested_by"].startswith("API token “crm”")
    assert pending["due_at"].startswith((START + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"))
    replay = api.put(url, {"destination": "external_address", "address": GOOD}, format="json",
                     HTTP_IDEMPOTENCY_KEY="p-1")
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true"
    assert PayoutChange.objects.count() == 1
    assert api.get(url).json()["pending_change"]["id"] == change.pk
    assert pw.edits() == 0 and pw.upstream()["externalAddress"] is None

    # A customer's own token sees its pending change; the provider's switch still decides whether it may ask.
    mine = _token(pw, customer_id=pw.pp.customer.pk)
    assert mine.get(url).json()["pending_change"]["id"] == change.pk
    pw.pp.provider.customers_may_change_payout = False
    pw.pp.provider.save(update_fields=["customers_may_change_payout"])
    assert mine.put(url, {"destination": "main_balance"}, format="json",
                    HTTP_IDEMPOTENCY_KEY="c-1").status_code == 403

    pw.clock.shift(timedelta(hours=25))
    assert sweep() == ["applied"]
    after = api.get(url).json()
    assert (after["destination"], after["address"], after["pending_change"]) == ("external_address", GOOD, None)


def test_statements_count_the_new_address_as_the_customers_from_the_applied_day(pw, client):
    owner_scope = scope_for_system(provider_id=pw.pp.provider.pk, actor="test")
    contract_version_create(scope=owner_scope, customer_id=pw.pp.customer.pk, effective_from=date(2026, 12, 1),
                            terms=ContractTerms(revenue_share_bps=2000, customer_addresses=[OTHER]), now=START)
    admin = pw.users["admin"]
    login_verified(client, admin)
    client.post(pw.base, {"account_id": pw.account.pk, "destination": "external_address", "address": GOOD,
                          "code": pw.code(admin)})
    pw.clock.shift(timedelta(hours=25))  # applied on 2026-12-11 (UTC)
    assert sweep() == ["applied"]
    applied_day = PayoutChange.objects.get().finished_at.astimezone(UTC).date()
    assert applied_day == date(2026, 12, 11)

    versions = list(ContractVersion.objects.filter(customer=pw.pp.customer).order_by("effective_from"))
    assert [(v.effective_from, v.effective_until, v.customer_addresses) for v in versions] == [
        (date(2026, 12, 1), applied_day, [OTHER]), (applied_day, None, sorted([GOOD, OTHER]))]
    assert versions[1].revenue_share_bps == 2000  # the terms carry on; only the list grew
    assert AuditEntry.objects.filter(action="contract.customer_addresses_add").count() == 1
    assert "counts " + GOOD in PayoutChange.objects.get().outcome

    for day in (date(2026, 12, 10), date(2026, 12, 11), date(2026, 12, 12)):
        reward_make(pw.account, day, 10_000, payout_destination="external_address", payout_address=GOOD)
    [statement] = statements_compute(scope=owner_scope, period=date(2026, 12, 1), customer_ids=[pw.pp.customer.pk])
    paid_to = {line.date: line.paid_to for line in statement.lines}
    assert paid_to == {date(2026, 12, 10): PAID_TO_PROVIDER, date(2026, 12, 11): PAID_TO_CUSTOMER,
                       date(2026, 12, 12): PAID_TO_CUSTOMER}
    assert statement.held_by_customer_sats == 20_000 and statement.held_by_provider_sats == 10_000
