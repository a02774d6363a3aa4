"""`/api/v1/alert-channels/` and `/api/v1/alert-rules/` (issue 20): secrets returned once, `write` for changes,
the channel's test queues a delivery, rules carry sustain, repeat and channels; both are in the schema."""

from __future__ import annotations

import pytest

from mining.models import AlertChannel, AlertDelivery, AlertKind, AlertRule

pytestmark = pytest.mark.django_db


def test_a_webhook_channel_returns_its_secret_once_and_tests_and_deletes(api_world, alert_stub):
    client = api_world.client("a_write")
    response = client.post("/api/v1/alert-channels/", {"kind": "webhook", "name": "NOC",
                                                      "url": alert_stub.base + "/in"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and "url" not in body and response["Cache-Control"] == "no-store"
    listed = client.get("/api/v1/alert-channels/").json()["results"]
    assert [c["name"] for c in listed] == ["NOC"] and "secret" not in listed[0]
    assert alert_stub.base not in client.get(f"/api/v1/alert-channels/{body['id']}/").content.decode()
    test = client.post(f"/api/v1/alert-channels/{body['id']}/test/")
    assert test.status_code == 202 and AlertDelivery.objects.filter(pk=test.json()["delivery_id"]).exists()
    assert client.delete(f"/api/v1/alert-channels/{body['id']}/").status_code == 204
    assert not AlertChannel.objects.exists()


def test_changes_need_the_write_scope_and_fields_are_checked(api_world):
    read = api_world.client("a_read")
    assert read.post("/api/v1/alert-channels/", {"kind": "email", "name": "x", "emails": ["a@b.example"]},
                     format="json").status_code == 403
    assert read.post("/api/v1/alert-rules/", {"kind": "worker_offline"}, format="json").status_code == 403
    bad = api_world.client("a_write").post("/api/v1/alert-channels/", {"kind": "slack", "name": "x",
                                                                       "url": "ftp://nope"}, format="json")
    assert bad.status_code == 400 and "url" in bad.json()["error"]["fields"]


def test_rules_are_made_and_changed_with_sustain_repeat_and_channels(api_world):
    client = api_world.client("a_write")
    channel = client.post("/api/v1/alert-channels/", {"kind": "email", "name": "Staff",
                                                      "emails": ["noc@alpha.example"]}, format="json").json()
    made = client.post("/api/v1/alert-rules/", {
        "kind": "hashrate_drop", "account_id": api_world.a1["account"].pk, "threshold": "5000", "sustain_s": 600,
        "repeat_s": 1800, "channels": [channel["id"]]}, format="json")
    assert made.status_code == 201, made.content
    rule = made.json()
    assert rule | {"id": 0} == {"id": 0, "kind": "hashrate_drop", "customer_id": api_world.world.customer_a1.pk,
                                "account_id": api_world.a1["account"].pk, "threshold": "5000", "sustain_s": 600,
                                "repeat_s": 1800, "channels": [channel["id"]], "notify_customer": True,
                                "is_enabled": True}
    changed = client.patch(f"/api/v1/alert-rules/{rule['id']}/", {"repeat_s": 0, "sustain_s": 1200,
                                                                   "channels": []}, format="json")
    assert changed.status_code == 200 and changed.json()["repeat_s"] == 0 and changed.json()["channels"] == []
    assert AlertRule.objects.get(pk=rule["id"]).duration_minutes == 20
    refused = client.patch(f"/api/v1/alert-rules/{rule['id']}/", {"sustain_s": 90}, format="json")
    assert refused.status_code == 400
    assert client.patch(f"/api/v1/alert-rules/{rule['id']}/", {"kind": AlertKind.WORKER_OFFLINE},
                        format="json").status_code == 400


def test_a_customer_token_sees_its_own_channels_only(api_world):
    w = api_world.world
    AlertChannel.objects.create(provider=w.provider_a, customer=w.customer_a1, kind="email", name="carol's",
                                emails=["ops@carol.example"], created_at=api_world.a1["alert"].opened_at)
    staff_channel = AlertChannel.objects.create(provider=w.provider_a, kind="email", name="staff",
                                                emails=["noc@alpha.example"],
                                                created_at=api_world.a1["alert"].opened_at)
    carol = api_world.client("a1_write")
    assert [c["name"] for c in carol.get("/api/v1/alert-channels/").json()["results"]] == ["carol's"]
    assert carol.get(f"/api/v1/alert-channels/{staff_channel.pk}/").status_code == 404
    assert api_world.client("a2_read").get("/api/v1/alert-channels/").json()["results"] == []


def test_both_are_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert {"/api/v1/alert-channels/", "/api/v1/alert-channels/{id}/", "/api/v1/alert-channels/{id}/test/",
            "/api/v1/alert-rules/", "/api/v1/alert-rules/{id}/"} <= set(paths)
    assert "AlertChannelCreated" in str(paths["/api/v1/alert-channels/"]["post"]["responses"]["201"])
    assert "secret" in schema["components"]["schemas"]["AlertChannelCreated"]["properties"]
