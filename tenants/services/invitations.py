"""Invitations: a member with the right capability invites someone by e-mail; the single-use, expiring link
lands them on "choose a password" and makes them a member.

The e-mail goes out from a Celery task after the invitation commits (`tenants.access_tasks.invitation_send_task`); the
task mints the link's token and this module keeps only its hash.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from tenants.access import Capability, Scope, ScopeKind, get_in_scope
from tenants.audit import audit_record
from tenants.models import (
    Customer,
    CustomerMembership,
    CustomerRole,
    Invitation,
    Provider,
    ProviderMembership,
    StaffRole,
)
from tenants.services.core import customer_membership_grant, provider_membership_grant

User = get_user_model()


class InvitationInvalid(Exception):
    """The link cannot be used; the message says why in the invitee's words."""


@dataclass(frozen=True)
class InvitationResult:
    invitation: Invitation | None  # a new pending invitation, or None when an existing user was added at once
    membership_added: bool


def _audit_fields(inv: Invitation) -> dict:
    return {"email": inv.email, "role": inv.role, "kind": inv.kind, "expires_at": inv.expires_at}


def _enqueue_send(invitation_id: int) -> None:
    from tenants.access_tasks import invitation_send_task

    transaction.on_commit(lambda: invitation_send_task.delay(invitation_id))


@transaction.atomic
def invitation_create(
    *, scope: Scope, email: str, role: str, customer_id: int | None = None, now: dt.datetime | None = None
) -> InvitationResult:
    """Invite `email` as staff (no customer) or as a user of one customer. An existing user is added at once.

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
        if customer is not None:
            customer_membership_grant(customer=customer, user=existing, role=role, scope=scope)
        else:
            provider_membership_grant(provider=provider, user=existing, role=role, scope=scope)
        return InvitationResult(invitation=None, membership_added=True)
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
    _enqueue_send(invitation.pk)
    return InvitationResult(invitation=invitation, membership_added=False)


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
    """Mint the link's token and keep only its hash (called by the sending task; a resend replaces the link)."""
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


@transaction.atomic
def invitation_accept(*, token: str, password: str, password_again: str, now: dt.datetime | None = None) -> User:
    """Use the link: create the account with the chosen password and add the membership, once.

    The row lock makes a link used twice at the same moment succeed once. If an account with the address exists
    by now, the membership is added to it and the password is left alone (the link proves the mailbox, not a
    right to replace someone's password).
    """
    now = now or timezone.now()
    invitation = invitation_get_for_token(token=token, now=now, lock=True)
    user = User.objects.filter(username=invitation.email).first()
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
