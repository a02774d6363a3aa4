"""Invitations: a member with the right capability invites someone by e-mail; the single-use, expiring link
lands them on "choose a password" (or, for an existing account, "accept while signed in") and makes them a member.

Joining a tenant needs the user's consent: an address that already has an account gets an invitation like anyone
else, and no membership exists until that user, signed in as themselves, accepts it. Otherwise any provider could
attach another tenant's user to itself and then act on their account (issue 15).

The e-mail is a row of the outbox (`tenants.email.email_enqueue`) written in the invitation's own transaction, so
it is retried until the mail server takes it and never lost; this module keeps only the token's hash (the link
itself lives in that one message's body until the outbox's retention removes it).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tenants.access import Capability, Scope, ScopeKind, get_in_scope
from tenants.audit import audit_record
from tenants.brand import brand_for
from tenants.email import email_enqueue
from tenants.models import (
    Customer,
    CustomerMembership,
    CustomerRole,
    Invitation,
    Provider,
    ProviderMembership,
    StaffRole,
)

User = get_user_model()


class InvitationInvalid(Exception):
    """The link cannot be used; the message says why in the invitee's words."""


@dataclass(frozen=True)
class InvitationResult:
    invitation: Invitation  # the new pending invitation (nobody becomes a member before accepting)
    existing_account: bool  # the address already has an account: they accept while signed in


def _audit_fields(inv: Invitation) -> dict:
    return {"email": inv.email, "role": inv.role, "kind": inv.kind, "expires_at": inv.expires_at}


def _invitation_mail_enqueue(invitation: Invitation, *, now: dt.datetime) -> None:
    """Mint the link, put the message in the outbox (same transaction), and mark the invitation sent."""
    token = invitation_token_issue(invitation=invitation)
    url = settings.PORTAL_BASE_URL + reverse("accounts:invitation_accept", args=[token])
    context = {"invitation": invitation, "url": url, "where": invitation.customer or invitation.provider,
               "days": settings.ACCESS_INVITATION_TTL_DAYS,
               "existing": User.objects.filter(username=invitation.email).exists(),
               "brand_name": brand_for(invitation.provider).name}
    email_enqueue(
        provider_id=invitation.provider_id, customer_id=invitation.customer_id, recipients=[invitation.email],
        subject=" ".join(render_to_string("emails/invitation_subject.txt", context).split()),
        body=render_to_string("emails/invitation_body.txt", context),
        dedupe_key=f"invitation:{invitation.pk}:{Invitation.hash_token(token)[:16]}", now=now,
    )
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=now)


@transaction.atomic
def invitation_create(
    *, scope: Scope, email: str, role: str, customer_id: int | None = None, now: dt.datetime | None = None
) -> InvitationResult:
    """Invite `email` as staff (no customer) or as a user of one customer; an existing account accepts too.

    Owners and admins invite staff (only an owner invites an owner); staff with manage_customer_users invite a
    customer's users; a customer admin invites viewers of their own customer.
    """
    now = now or timezone.now()
    email = (email or "").strip().lower()
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter a valid e-mail address."
    customer = None
    if customer_id is None:
        if scope.kind == ScopeKind.CUSTOMER:
            customer_id = scope.customer_id
        else:
            scope.require(Capability.MANAGE_STAFF)
    if customer_id is not None:
        scope.require(Capability.MANAGE_CUSTOMER_USERS)
        customer = get_in_scope(Customer, scope, pk=customer_id)
        allowed = [CustomerRole.VIEWER] if scope.kind == ScopeKind.CUSTOMER else list(CustomerRole)
        if role not in allowed:
            errors["role"] = ("A customer admin can invite viewers." if scope.kind == ScopeKind.CUSTOMER
                              else "Choose admin or viewer.")
    else:
        if role not in StaffRole.values:
            errors["role"] = "Choose owner, admin, operator or read-only."
        elif role == StaffRole.OWNER and scope.role != StaffRole.OWNER:
            errors["role"] = "Only an owner can invite an owner."
    if errors:
        raise ValidationError(errors)
    provider = Provider.objects.get(pk=scope.provider_id)
    existing = User.objects.filter(username=email).first()
    if existing is not None:
        member_qs = (CustomerMembership.objects.filter(customer=customer, user=existing) if customer
                     else ProviderMembership.objects.filter(provider=provider, user=existing))
        if member_qs.exists():
            raise ValidationError({"email": "This person is already a member here."})
    pending = Invitation.objects.select_for_update().filter(
        provider=provider, customer=customer, email=email, accepted_at__isnull=True, revoked_at__isnull=True,
        expires_at__gt=now,
    )
    if pending.exists():
        raise ValidationError({"email": "An invitation to this address is already pending; revoke it to send anew."})
    invitation = Invitation.objects.create(
        provider=provider, customer=customer, email=email, role=role,
        kind=Invitation.Kind.CUSTOMER if customer else Invitation.Kind.STAFF,
        invited_by_id=scope.user_id, created_at=now,
        expires_at=now + dt.timedelta(days=settings.ACCESS_INVITATION_TTL_DAYS),
    )
    audit_record(scope=scope, action="invitation.create", target=invitation, after=_audit_fields(invitation))
    _invitation_mail_enqueue(invitation, now=now)
    return InvitationResult(invitation=invitation, existing_account=existing is not None)


@transaction.atomic
def invitation_revoke(*, scope: Scope, invitation_id: int, now: dt.datetime | None = None) -> Invitation:
    now = now or timezone.now()
    invitation = get_in_scope(Invitation.objects.select_for_update(), scope, pk=invitation_id)
    scope.require(Capability.MANAGE_STAFF if invitation.customer_id is None else Capability.MANAGE_CUSTOMER_USERS)
    if invitation.status(now=now) != "pending":
        raise ValidationError(f"This invitation is already {invitation.status(now=now)}.")
    invitation.revoked_at = now
    invitation.save(update_fields=["revoked_at"])
    audit_record(scope=scope, action="invitation.revoke", target=invitation, before={"revoked_at": None},
                 after={"revoked_at": now})
    return invitation


def invitation_token_issue(*, invitation: Invitation) -> str:
    """Mint the link's token and keep only its hash (a new one replaces the old link)."""
    token = secrets.token_urlsafe(32)
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=Invitation.hash_token(token))
    return token


def invitation_get_for_token(*, token: str, now: dt.datetime | None = None, lock: bool = False) -> Invitation:
    """The usable invitation behind a link, or InvitationInvalid saying why not."""
    now = now or timezone.now()
    if not token:
        raise InvitationInvalid("This invitation link is not valid.")
    qs = Invitation.objects.select_related("provider", "customer")
    if lock:
        qs = qs.select_for_update(of=("self",))
    invitation = qs.filter(token_hash=Invitation.hash_token(token)).first()
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid. Ask for a new invitation.")
    status = invitation.status(now=now)
    if status == "accepted":
        raise InvitationInvalid("This invitation has already been used. Sign in instead.")
    if status == "revoked":
        raise InvitationInvalid("This invitation was withdrawn. Ask for a new one if you still need access.")
    if status == "expired":
        raise InvitationInvalid("This invitation has expired. Ask for a new one.")
    return invitation


class InvitationNeedsSignIn(InvitationInvalid):
    """The address has an account: its owner accepts while signed in as themselves (the message says so)."""


@transaction.atomic
def invitation_accept(*, token: str, password: str, password_again: str, now: dt.datetime | None = None,
                      signed_in_user: Any = None) -> User:
    """Use the link: create the account with the chosen password and add the membership, once.

    The row lock makes a link used twice at the same moment succeed once. If an account with the address exists,
    only that account, signed in, can accept (`signed_in_user`): the link proves the mailbox, the sign-in proves
    the person consents, and their password is never touched.
    """
    now = now or timezone.now()
    invitation = invitation_get_for_token(token=token, now=now, lock=True)
    user = User.objects.filter(username=invitation.email).first()
    if user is not None:
        if signed_in_user is None or not getattr(signed_in_user, "is_authenticated", False):
            raise InvitationNeedsSignIn(f"{invitation.email} already has an account: sign in as {invitation.email} "
                                        "to accept this invitation.")
        if signed_in_user.pk != user.pk:
            raise InvitationNeedsSignIn(f"This invitation is for {invitation.email}, and you are signed in as "
                                        f"{signed_in_user.email}. Sign out, then sign in as {invitation.email}.")
    if user is None:
        errors: dict[str, list[str]] = {}
        if password != password_again:
            errors["password_again"] = ["The two passwords differ."]
        candidate = User(username=invitation.email, email=invitation.email)
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
        if errors:
            raise ValidationError(errors)
        candidate.set_password(password)
        candidate.save()
        user = candidate
    # The invitee acts: the entry names them (a user actor), in the tenant they join.
    kind = ScopeKind.CUSTOMER if invitation.customer_id else ScopeKind.STAFF
    actor = Scope(kind, invitation.provider_id, invitation.customer_id, invitation.role, user.pk)
    # One write, one entry: the membership is part of accepting, recorded on the invitation's entry.
    if invitation.customer_id:
        CustomerMembership.objects.update_or_create(
            customer_id=invitation.customer_id, user=user,
            defaults={"role": invitation.role, "provider_id": invitation.provider_id},
        )
    else:
        ProviderMembership.objects.update_or_create(provider_id=invitation.provider_id, user=user,
                                                    defaults={"role": invitation.role})
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(scope=actor, action="invitation.accept", target=invitation,
                 before={"accepted_at": None, "user": None, "role": None},
                 after={"accepted_at": now, "user": user.pk, "role": invitation.role})
    return user
