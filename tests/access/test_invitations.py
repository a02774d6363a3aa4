"""Invitations: a single-use, expiring, revocable link that lands the invitee on "choose a password"."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tenants.models import AuditEntry, CustomerMembership, Invitation, OutboundEmail, ProviderMembership
from tenants.services.invitations import (
    InvitationInvalid,
    InvitationNeedsSignIn,
    invitation_accept,
    invitation_create,
    invitation_revoke,
)
from tests.access.helpers import link_in_last_mail, no_secret_in, one_audit_entry
from tests.fixtures.access import login_verified
from tests.fixtures.mail import outbox_deliver

NEW_PASSWORD = "a-long-and-unusual-passphrase-42"
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
TOKEN_RE = r"/account/invitation/([A-Za-z0-9_\-]+)/"


def _invite(world, django_capture_on_commit_callbacks, *, scope=None, email="new@alpha.example", role="operator",
            customer_id=None, now=None):
    scope = scope or world.scope(world.alice, world.provider_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = invitation_create(scope=scope, email=email, role=role, customer_id=customer_id, now=now)
    return result, callbacks


def _send_and_token(invitation, *, now=None) -> str:
    """Do what the outbox's workers do (send what is due), then read the link from the message."""
    assert any(r.outcome == "sent" for r in outbox_deliver(now=now))
    return re.search(TOKEN_RE, link_in_last_mail(invitation.email, r"http\S+")).group(1)


def test_owner_invites_staff_one_mail_after_commit_and_accepting_makes_a_member(world,
                                                                                 django_capture_on_commit_callbacks):
    with one_audit_entry("invitation.create") as entries:
        result, callbacks = _invite(world, django_capture_on_commit_callbacks)
    assert len(callbacks) == 1 and not mail.outbox  # nothing is sent before the write commits
    invitation = result.invitation
    assert entries[0].changes["email"] == [None, "new@alpha.example"] and entries[0].actor_user_id == world.alice.pk
    # The message is an outbox row of the same transaction: retried by the outbox, never lost.
    assert OutboundEmail.objects.get().recipient == "new@alpha.example"
    token = _send_and_token(invitation)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@alpha.example"]
    invitation.refresh_from_db()
    assert invitation.sent_at is not None and invitation.token_hash == Invitation.hash_token(token)
    assert token not in json.dumps(list(Invitation.objects.values("token_hash", "email")))  # only the hash is kept
    # A second delivery round (a redelivered task) sends nothing more.
    assert outbox_deliver() == [] and len(mail.outbox) == 1

    with one_audit_entry("invitation.accept") as entries:
        user = invitation_accept(token=token, password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert user.check_password(NEW_PASSWORD)
    assert ProviderMembership.objects.get(provider=world.provider_a, user=user).role == "operator"
    assert entries[0].actor_user_id == user.pk and entries[0].changes["role"] == [None, "operator"]
    no_secret_in(entries[0], NEW_PASSWORD, token)


def test_the_link_works_once(world, django_capture_on_commit_callbacks):
    result, _ = _invite(world, django_capture_on_commit_callbacks)
    token = _send_and_token(result.invitation)
    invitation_accept(token=token, password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    with pytest.raises(InvitationInvalid, match="already been used"):
        invitation_accept(token=token, password="another-long-passphrase-7", password_again="another-long-passphrase-7")
    assert get_user_model().objects.get(username="new@alpha.example").check_password(NEW_PASSWORD)


def test_an_expired_link_is_refused(world, django_capture_on_commit_callbacks):
    result, _ = _invite(world, django_capture_on_commit_callbacks, now=NOW)
    token = _send_and_token(result.invitation, now=NOW + dt.timedelta(minutes=1))
    with pytest.raises(InvitationInvalid, match="expired"):
        invitation_accept(token=token, password=NEW_PASSWORD, password_again=NEW_PASSWORD,
                          now=NOW + dt.timedelta(days=7, seconds=1))
    invitation_accept(token=token, password=NEW_PASSWORD, password_again=NEW_PASSWORD,
                      now=NOW + dt.timedelta(days=6, hours=23))


def test_a_revoked_link_is_refused_and_the_revoke_is_audited(world, django_capture_on_commit_callbacks):
    result, _ = _invite(world, django_capture_on_commit_callbacks)
    token = _send_and_token(result.invitation)
    with one_audit_entry("invitation.revoke"):
        invitation_revoke(scope=world.scope(world.alice, world.provider_a), invitation_id=result.invitation.pk)
    with pytest.raises(InvitationInvalid, match="withdrawn"):
        invitation_accept(token=token, password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert not get_user_model().objects.filter(username="new@alpha.example").exists()


def test_a_bad_password_changes_nothing_and_says_which_field(world, django_capture_on_commit_callbacks):
    result, _ = _invite(world, django_capture_on_commit_callbacks)
    token = _send_and_token(result.invitation)
    with pytest.raises(ValidationError) as caught:
        invitation_accept(token=token, password="short", password_again="different")
    assert set(caught.value.error_dict) == {"password", "password_again"}
    assert not get_user_model().objects.filter(username="new@alpha.example").exists()
    assert Invitation.objects.get(pk=result.invitation.pk).accepted_at is None


def test_inviting_an_existing_user_needs_their_consent_signed_in(world, django_capture_on_commit_callbacks, client):
    """Issue 15, item 1: an existing account is never added unasked; it accepts an invitation while signed in."""
    bob_scope = world.scope(world.bob, world.provider_b)
    with one_audit_entry("invitation.create"):
        result, _ = _invite(world, django_capture_on_commit_callbacks, scope=bob_scope, email="Carol@carol.example")
    assert result.existing_account and result.invitation.provider_id == world.provider_b.pk
    assert not ProviderMembership.objects.filter(user=world.carol).exists()  # nothing before consent
    token = _send_and_token(result.invitation)
    assert "sign in as yourself and accept" in mail.outbox[-1].body
    # The link alone is not consent: signed out, or signed in as someone else, it only says what to do.
    with pytest.raises(InvitationNeedsSignIn, match="sign in as carol@carol.example"):
        invitation_accept(token=token, password="", password_again="")
    with pytest.raises(InvitationNeedsSignIn, match="you are signed in as eve@eve.example"):
        invitation_accept(token=token, password="", password_again="", signed_in_user=world.eve)
    page = client.get(f"/account/invitation/{token}/")
    assert b"Sign in to accept" in page.content and b"Accept</button>" not in page.content
    assert client.post(f"/account/invitation/{token}/", {}).status_code == 400
    assert not ProviderMembership.objects.filter(user=world.carol).exists()
    # Carol signs in as herself and says yes.
    login_verified(client, world.carol)
    page = client.get(f"/account/invitation/{token}/")
    assert b"You are signed in as carol@carol.example" in page.content
    password_before = get_user_model().objects.get(pk=world.carol.pk).password
    with one_audit_entry("invitation.accept"):
        page = client.post(f"/account/invitation/{token}/", {})
    assert page.status_code == 302
    assert ProviderMembership.objects.get(provider=world.provider_b, user=world.carol).role == "operator"
    assert get_user_model().objects.get(pk=world.carol.pk).password == password_before
    with pytest.raises(ValidationError, match="already a member"):
        _invite(world, django_capture_on_commit_callbacks, scope=bob_scope, email="carol@carol.example")


def test_post_to_the_team_page_with_another_tenants_user_adds_no_membership(world, client):
    login_verified(client, world.bob)
    page = client.post("/p/beta/team/", {"email": "alice@alpha.example", "role": "admin"})
    assert page.status_code == 302
    assert not ProviderMembership.objects.filter(provider=world.provider_b, user=world.alice).exists()
    assert Invitation.objects.get(provider=world.provider_b).email == "alice@alpha.example"
    assert "accept it while signed in" in client.get("/p/beta/team/").content.decode()


def test_who_may_invite_whom(world, django_capture_on_commit_callbacks):
    dave = world.scope(world.dave, world.provider_a)  # read-only staff
    with pytest.raises(PermissionDenied):
        _invite(world, django_capture_on_commit_callbacks, scope=dave)
    alice = world.scope(world.alice, world.provider_a)
    # Staff invite a customer's users with any customer role.
    result, _ = _invite(world, django_capture_on_commit_callbacks, scope=alice, email="boss@carol.example",
                        role="admin", customer_id=world.customer_a1.pk)
    assert result.invitation.customer_id == world.customer_a1.pk
    # A customer admin invites viewers of their own customer, and nothing else.
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    result, _ = _invite(world, django_capture_on_commit_callbacks, scope=carol, email="viewer@carol.example",
                        role="viewer")
    assert result.invitation.customer_id == world.customer_a1.pk and result.invitation.role == "viewer"
    with pytest.raises(ValidationError) as caught:
        _invite(world, django_capture_on_commit_callbacks, scope=carol, email="x@carol.example", role="admin")
    assert "role" in caught.value.error_dict
    from django.http import Http404

    with pytest.raises(Http404):  # another customer of the same provider is invisible to Carol
        _invite(world, django_capture_on_commit_callbacks, scope=carol, email="y@carol.example", role="viewer",
                customer_id=world.customer_a2.pk)
    # An admin may not hand out ownership.
    admin = _make_admin(world)
    with pytest.raises(ValidationError, match="Only an owner"):
        _invite(world, django_capture_on_commit_callbacks, scope=admin, email="z@alpha.example", role="owner")


def _make_admin(world):
    from tenants import services

    user = services.user_get_or_create(email="admin@alpha.example", password="x-long-password-123")
    services.provider_membership_grant(provider=world.provider_a, user=user, role="admin")
    return world.scope(user, world.provider_a)


def test_the_invitation_message_reaches_the_broker_after_commit(world, redis_client, transactional_db):
    """The outbox's on-commit hook really publishes the send task (to the real Redis broker, on mail's own queue),
    with the row's id."""
    from django.conf import settings

    scope = world.scope(world.alice, world.provider_a)
    invitation_create(scope=scope, email="broker@alpha.example", role="operator")
    import base64

    row = OutboundEmail.objects.get(recipient="broker@alpha.example")
    published = []
    for raw in redis_client.lrange(settings.CELERY_NOTIFY_QUEUE, 0, -1):
        message = json.loads(raw)
        if message["headers"].get("task") == "tenants.tasks.email_send_task":
            published.append(json.loads(base64.b64decode(message["body"]))[0])
    assert [row.pk] in published


def test_the_pages_walk_an_invitee_from_link_to_staff_enrolment(world, client, django_capture_on_commit_callbacks):
    login_verified(client, world.alice)
    with django_capture_on_commit_callbacks(execute=False):
        page = client.post("/p/alpha/team/", {"email": "Newbie@Alpha.example", "role": "read_only"})
    assert page.status_code == 302
    page = client.get("/p/alpha/team/")
    assert b"newbie@alpha.example" in page.content  # listed as pending where it was made
    bad = client.post("/p/alpha/team/", {"email": "not-an-address", "role": "boss"})
    assert bad.status_code == 400 and b"Enter a valid email address" in bad.content
    assert b"Select a valid choice" in bad.content
    assert Invitation.objects.count() == 1
    client.logout()
    token = _send_and_token(Invitation.objects.get())
    page = client.get(f"/account/invitation/{token}/")
    assert page.status_code == 200 and b"Choose a password" in page.content
    page = client.post(f"/account/invitation/{token}/", {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert page.status_code == 302 and page["Location"] == "/account/two-factor/setup/"
    assert client.get("/p/alpha/fleet/").status_code == 302  # no staff page before the second factor
    assert client.get(f"/account/invitation/{token}/").status_code == 410


def test_invitations_expire_after_seven_days_by_default(world, django_capture_on_commit_callbacks):
    result, _ = _invite(world, django_capture_on_commit_callbacks, now=NOW)
    assert result.invitation.expires_at - result.invitation.created_at == dt.timedelta(days=7)
    assert result.invitation.status(now=NOW + dt.timedelta(days=8)) == "expired"
    assert timezone.is_aware(result.invitation.expires_at)
    assert AuditEntry.objects.filter(action="invitation.create").count() == 1
    assert not CustomerMembership.objects.filter(user__username="new@alpha.example").exists()
