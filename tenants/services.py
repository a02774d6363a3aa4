"""Writes to the tenant tree. Views, forms, commands and the API call these; they hold the rules."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from tenants.crypto import secret_rotate
from tenants.models import Customer, CustomerMembership, CustomerRole, Provider, ProviderMembership, StaffRole

User = get_user_model()


@transaction.atomic
def provider_secrets_rotate() -> int:
    """Re-encrypt every provider's secret under the first key, all or nothing, rows locked in id order."""
    rotated = 0
    for provider in Provider.objects.select_for_update().exclude(api_secret_ciphertext="").order_by("pk"):
        provider.api_secret_ciphertext = secret_rotate(provider.api_secret_ciphertext)
        provider.save(update_fields=["api_secret_ciphertext"])
        rotated += 1
    return rotated


def provider_create(
    *, name: str, slug: str, upstream_base_url: str, api_key: str = "", api_secret: str = "", timezone: str = "UTC"
) -> Provider:
    provider = Provider(name=name, slug=slug, upstream_base_url=upstream_base_url, whitebit_api_key=api_key,
                        timezone=timezone)
    provider.set_api_secret(api_secret)
    provider.full_clean()
    provider.save()
    return provider


def provider_credentials_set(*, provider: Provider, api_key: str, api_secret: str | None) -> Provider:
    """Replace the key; replace the secret only when a new one is given (write-only: blank keeps it)."""
    provider.whitebit_api_key = api_key
    if api_secret:
        provider.set_api_secret(api_secret)
    provider.full_clean()
    provider.save(update_fields=["whitebit_api_key", "api_secret_ciphertext"])
    return provider


def customer_create(*, provider: Provider, name: str, slug: str, contact_emails: list[str] | None = None) -> Customer:
    customer = Customer(provider=provider, name=name, slug=slug, contact_emails=contact_emails or [])
    customer.full_clean()
    customer.save()
    return customer


def user_get_or_create(*, email: str, password: str | None = None) -> User:
    """Users sign in with their e-mail; the username is the lower-cased address."""
    email = email.strip().lower()
    user, created = User.objects.get_or_create(username=email, defaults={"email": email})
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    return user


def provider_membership_grant(*, provider: Provider, user: User, role: StaffRole | str) -> ProviderMembership:
    membership, _ = ProviderMembership.objects.update_or_create(provider=provider, user=user, defaults={"role": role})
    return membership


def customer_membership_grant(*, customer: Customer, user: User, role: CustomerRole | str) -> CustomerMembership:
    membership, _ = CustomerMembership.objects.update_or_create(
        customer=customer, user=user, defaults={"role": role, "provider_id": customer.provider_id}
    )
    return membership
