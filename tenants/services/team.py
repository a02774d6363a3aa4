"""Team changes: staff roles and removal (the last owner stays), a customer's users. Access ends at the removed
member's next request, because every request resolves its scope from the memberships afresh."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.access import Capability, Scope, ScopeKind, get_in_scope
from tenants.audit import audit_record
from tenants.models import CustomerMembership, CustomerRole, ProviderMembership, StaffRole


def _owners_locked(provider_id: int) -> list[int]:
    # Lock every owner row of the provider in id order, so two admins demoting the two last owners at once
    # cannot both succeed.
    return list(
        ProviderMembership.objects.select_for_update()
        .filter(provider_id=provider_id, role=StaffRole.OWNER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _check_owner_rules(scope: Scope, membership: ProviderMembership, *, leaving_owner: bool) -> None:
    if membership.role == StaffRole.OWNER and scope.role != StaffRole.OWNER and scope.kind != ScopeKind.SYSTEM:
        raise ValidationError("Only an owner can change or remove an owner.")
    if leaving_owner and _owners_locked(scope.provider_id) == [membership.pk]:
        raise ValidationError("The last owner cannot be removed or demoted; make someone else an owner first.")


@transaction.atomic
def staff_role_change(*, scope: Scope, membership_id: int, role: str) -> ProviderMembership:
    scope.require(Capability.MANAGE_STAFF)
    membership = get_in_scope(ProviderMembership.objects.select_for_update(), scope, pk=membership_id)
    if role not in StaffRole.values:
        raise ValidationError({"role": "Choose owner, admin, operator or read-only."})
    if role == StaffRole.OWNER and scope.role != StaffRole.OWNER:
        raise ValidationError({"role": "Only an owner can make someone an owner."})
    if role == membership.role:
        return membership
    _check_owner_rules(scope, membership, leaving_owner=membership.role == StaffRole.OWNER)
    before = {"role": membership.role}
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(scope=scope, action="provider_membership.update", target=membership, before=before,
                 after={"role": role})
    return membership


@transaction.atomic
def staff_remove(*, scope: Scope, membership_id: int) -> None:
    scope.require(Capability.MANAGE_STAFF)
    membership = get_in_scope(ProviderMembership.objects.select_for_update().select_related("user"), scope,
                              pk=membership_id)
    _check_owner_rules(scope, membership, leaving_owner=membership.role == StaffRole.OWNER)
    audit_record(scope=scope, action="provider_membership.delete", target=membership,
                 before={"role": membership.role, "user": membership.user_id}, after={})
    membership.delete()


@transaction.atomic
def customer_user_remove(*, scope: Scope, membership_id: int) -> None:
    """Staff remove any user of their customers; a customer admin removes viewers of their own customer."""
    scope.require(Capability.MANAGE_CUSTOMER_USERS)
    membership = get_in_scope(CustomerMembership.objects.select_for_update(), scope, pk=membership_id)
    if scope.kind == ScopeKind.CUSTOMER and membership.role != CustomerRole.VIEWER:
        raise ValidationError("A customer admin can remove viewers; ask your provider to remove an admin.")
    audit_record(scope=scope, action="customer_membership.delete", target=membership,
                 before={"role": membership.role, "user": membership.user_id}, after={})
    membership.delete()
