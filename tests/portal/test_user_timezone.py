"""Each user reads times in their own zone (stored UTC): the preference page, the default (the provider's zone),
a field error for an unknown zone, charts told the zone, and the helper forms use to read typed times.

The times shown come from fixed rows (17:00 UTC on 2026-11-15, `portal_rows.DATA_NOW`), never from the wall
clock; tests/test_any_time.py still re-runs this file at awkward instants (a Tokyo date differs from the UTC one
there)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.test import RequestFactory

from portal.timezones import local_to_utc, timezone_name_for_user, user_timezone
from tenants.models import UserPreference
from tests.fixtures.access import login_verified
from tests.portal.portal_rows import fleet_rows_add


def _workers(client) -> str:
    response = client.get("/c/alpha/carol-mining/workers/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_customer_reads_times_in_the_zone_they_chose(world, client):
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)  # last seen 2026-11-15 17:00 UTC
    client.force_login(world.carol)
    page = _workers(client)
    assert "2026-11-15 17:00 UTC" in page and "Times in UTC" in page  # the provider's zone is UTC

    response = client.post("/account/preferences/", {"timezone": "Asia/Tokyo"}, follow=True)
    assert "Times are now shown in Asia/Tokyo." in response.content.decode()
    page = _workers(client)
    assert "2026-11-16 02:00 JST" in page and "Times in Asia/Tokyo" in page
    assert 'datetime="2026-11-15T17:00:00Z" title="2026-11-15 17:00 UTC"' in page  # the exact instant kept
    assert "17:00 UTC</time>" not in page

    client.post("/account/preferences/", {"timezone": "America/New_York"})
    page = _workers(client)
    assert "2026-11-15 12:00 EST" in page and "JST" not in page
    assert UserPreference.objects.get(user=world.carol).timezone == "America/New_York"


def test_without_a_setting_the_providers_zone_applies(world, client):
    world.provider_a.timezone = "Europe/Kyiv"
    world.provider_a.save(update_fields=["timezone"])
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
    client.force_login(world.carol)
    assert "2026-11-15 19:00 EET" in _workers(client)
    assert timezone_name_for_user(world.alice) == "Europe/Kyiv"  # staff: their provider's zone
    assert timezone_name_for_user(world.bob) == "UTC"
    # An empty setting goes back to the provider's zone.
    client.post("/account/preferences/", {"timezone": "Asia/Tokyo"})
    assert "JST" in _workers(client)
    client.post("/account/preferences/", {"timezone": ""})
    assert "2026-11-15 19:00 EET" in _workers(client) and not UserPreference.objects.exists()


def test_an_unknown_zone_is_a_field_error_and_changes_nothing(world, client):
    client.force_login(world.carol)
    client.post("/account/preferences/", {"timezone": "Asia/Tokyo"})
    response = client.post("/account/preferences/", {"timezone": "Mars/Olympus_Mons"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "is not a known time zone" in page and 'aria-invalid="true"' in page
    assert UserPreference.objects.get(user=world.carol).timezone == "Asia/Tokyo"
    assert "Times in Asia/Tokyo" in client.get("/account/preferences/").content.decode()


def test_staff_pages_and_charts_use_the_zone(world, client):
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)  # an alert opened 17:00 UTC
    UserPreference.objects.create(user=world.alice, timezone="Asia/Tokyo")
    login_verified(client, world.alice)
    alerts = client.get("/p/alpha/alerts/").content.decode()
    assert "2026-11-16 02:00 JST" in alerts
    fleet = client.get("/p/alpha/fleet/").content.decode()
    assert 'data-tz="Asia/Tokyo"' in fleet  # uPlot draws its axis in this zone (tzDate), not the browser's
    workers = client.get("/p/alpha/workers/").content.decode()
    assert "2026-11-16 02:00 JST" in workers


def test_typed_times_are_read_in_the_users_zone():
    tokyo = ZoneInfo("Asia/Tokyo")
    assert local_to_utc(datetime(2026, 11, 16, 2, 0), tokyo) == datetime(2026, 11, 15, 17, 0, tzinfo=UTC)
    assert local_to_utc(datetime(2026, 11, 15, 12, 0), "America/New_York") == datetime(2026, 11, 15, 17, 0,
                                                                                      tzinfo=UTC)
    aware = datetime(2026, 11, 16, 2, 0, tzinfo=tokyo)
    assert local_to_utc(aware, "America/New_York") == datetime(2026, 11, 15, 17, 0, tzinfo=UTC)


def test_user_timezone_for_a_request(world, client):
    UserPreference.objects.create(user=world.carol, timezone="Asia/Tokyo")
    request = RequestFactory().get("/")
    request.user = world.carol
    assert str(user_timezone(request)) == "Asia/Tokyo"
