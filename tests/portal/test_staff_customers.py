"""Customers in the staff console: list, search, status filter, create with field errors, suspend / reactivate."""

from __future__ import annotations

from tenants.models import AuditEntry, Customer
from tests.fixtures.access import login_verified
from tests.portal.portal_rows import fleet_rows_add


def test_list_searches_and_filters_and_counts_per_customer(world, client):
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=3)
    Customer.objects.filter(pk=world.customer_a2.pk).update(status="suspended")
    login_verified(client, world.alice)
    page = client.get("/p/alpha/customers/").content.decode()
    assert "Carol Mining" in page and "Eve Hashing" in page and "Beta" not in page
    row = page[page.index("Carol Mining</a>"):].split("</tr>")[0]
    assert '<td class="num">3</td><td class="num">3</td>' in row and '<span class="badge err">3</span>' in row
    found = client.get("/p/alpha/customers/rows/?q=carol").content.decode()
    assert "Carol Mining" in found and "Eve Hashing" not in found and "<!doctype" not in found
    suspended = client.get("/p/alpha/customers/?status=suspended").content.decode()
    assert "Eve Hashing" in suspended and "Carol Mining" not in suspended


def test_create_answers_field_by_field_and_writes_nothing_on_error(world, client):
    login_verified(client, world.alice)
    before = (Customer.objects.count(), AuditEntry.objects.count())
    page = client.post("/p/alpha/customers/new/", {"name": "Dup", "slug": "carol-mining",
                                                    "contact_emails": "ops@dup.example, not-an-address"})
    html = page.content.decode()
    assert page.status_code == 200 and "“not-an-address” is not an e-mail address." in html
    assert (Customer.objects.count(), AuditEntry.objects.count()) == before
    page = client.post("/p/alpha/customers/new/", {"name": "Dup", "slug": "carol-mining", "contact_emails": ""})
    assert "This provider already has a customer with that slug." in page.content.decode()
    assert (Customer.objects.count(), AuditEntry.objects.count()) == before
    done = client.post("/p/alpha/customers/new/", {"name": "Nova Hash", "slug": "nova-hash",
                                                    "contact_emails": "Ops@Nova.example\nbills@nova.example"})
    assert done.status_code == 302 and done["Location"] == "/p/alpha/customers/nova-hash/"
    nova = Customer.objects.get(provider=world.provider_a, slug="nova-hash")
    assert nova.contact_emails == ["ops@nova.example", "bills@nova.example"]
    assert AuditEntry.objects.filter(action="customer.create", object_id=str(nova.pk)).count() == 1
    assert "Nova Hash" in client.get(done["Location"]).content.decode()


def test_read_only_staff_cannot_create_or_suspend(world, client):
    login_verified(client, world.dave)
    assert client.get("/p/alpha/customers/new/").status_code == 403
    assert client.post("/p/alpha/customers/carol-mining/status/", {"status": "suspended"}).status_code == 403
    assert Customer.objects.get(pk=world.customer_a1.pk).status == "active"


def test_suspend_turns_the_customers_users_away_and_reactivate_lets_them_back(world, client):
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
    login_verified(client, world.alice)
    assert client.post("/p/alpha/customers/carol-mining/status/", {"status": "suspended"}).status_code == 302
    entry = AuditEntry.objects.get(action="customer.suspend")
    assert entry.changes == {"status": ["active", "suspended"]}
    assert client.get("/c/alpha/carol-mining/dashboard/").status_code == 200  # staff still see it
    carol = client.__class__()
    carol.force_login(world.carol)
    refused = carol.get("/c/alpha/carol-mining/dashboard/")
    assert refused.status_code == 403 and "suspended by its hosting provider" in refused.content.decode()
    client.post("/p/alpha/customers/carol-mining/status/", {"status": "active"})
    assert carol.get("/c/alpha/carol-mining/dashboard/").status_code == 200
    assert AuditEntry.objects.filter(action="customer.reactivate").count() == 1


def test_another_providers_customer_is_404(world, client):
    login_verified(client, world.bob)
    assert client.get("/p/beta/customers/").content.decode().count("Carol Mining (Beta)") == 1
    assert client.get("/p/alpha/customers/carol-mining/").status_code == 404
    assert client.post("/p/beta/customers/eve-hashing/status/", {"status": "suspended"}).status_code == 404


def test_detail_shows_the_contract_in_force_and_the_closed_statements(world, client):
    """Staff answer "what does this customer pay, what did we bill" from the customer's page."""
    import time_machine

    from billing.models import Statement
    from billing.templatetags.billing_money import btc_hover
    from tests.portal.statements_world import NOW, bill

    bill(world.provider_a, [world.customer_a1])  # 20 %, two machines; September and October closed
    login_verified(client, world.alice)
    with time_machine.travel(NOW, tick=False):  # the session and "in force today" both read this clock
        page = client.get("/p/alpha/customers/carol-mining/").content.decode()
        other = client.get("/p/alpha/customers/eve-hashing/").content.decode()
    section = page[page.index("<h2>Contract and statements</h2>"):].split("</section>")[0]
    assert "In force since 2026-09-01: 20.00 % revenue share" in section
    assert "2 × 0.0001 BTC/month" in section
    october = Statement.objects.get(customer=world.customer_a1, period="2026-10-01")
    rows = section[section.index("<tbody>"):].split("</tr>")
    assert "/p/alpha/billing/statements/2026-10/carol-mining/" in rows[0] and "October 2026" in rows[0]
    assert btc_hover(october.customer_net_sats) in rows[0] and "September 2026" in rows[1]
    assert "No contract in force today." in other and "No closed statements yet." in other
