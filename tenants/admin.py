"""Django admin for platform superusers. The API secret is write-only here too: a blank field keeps it."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from tenants import services
from tenants.models import (
    AuditEntry,
    Customer,
    CustomerMembership,
    Invitation,
    OutboundEmail,
    Provider,
    ProviderMembership,
    SecurityEvent,
)


class ProviderAdminForm(forms.ModelForm):
    api_secret = forms.CharField(
        label="WhiteBIT API secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: it is stored encrypted and never shown. Leave blank to keep the current secret.",
    )
    clear_api_secret = forms.BooleanField(label="Remove the stored secret", required=False)
    upstream_base_url = forms.URLField(
        assume_scheme="https", max_length=200, help_text=Provider._meta.get_field("upstream_base_url").help_text
    )

    class Meta:
        model = Provider
        fields = ["name", "slug", "timezone", "upstream_base_url", "whitebit_api_key"]

    def save(self, commit: bool = True) -> Provider:
        provider = super().save(commit=False)
        if provider.pk is None:  # a new provider: its first secret (provider_create audits creations elsewhere)
            provider.set_api_secret(self.cleaned_data.get("api_secret") or "")
        if commit:
            provider.save()
        return provider


class CustomerInline(admin.TabularInline):
    model = Customer
    extra = 0
    fields = ["name", "slug", "status"]
    show_change_link = True


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderAdminForm
    list_display = ["name", "slug", "upstream_base_url", "secret_stored", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["secret_stored"]
    inlines = [CustomerInline]

    def save_model(self, request, obj: Provider, form, change: bool) -> None:
        """An existing provider's key and secret change through the service: audited in the provider's log and in
        the administrator's own security trail."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        api_key = obj.whitebit_api_key
        obj.whitebit_api_key = Provider.objects.values_list("whitebit_api_key", flat=True).get(pk=obj.pk)
        super().save_model(request, obj, form, change)
        secret, clear = form.cleaned_data.get("api_secret"), form.cleaned_data.get("clear_api_secret")
        if secret or clear or api_key != obj.whitebit_api_key:
            services.provider_credentials_set(provider=obj, api_key=api_key, api_secret=secret, clear_secret=clear,
                                              actor=f"admin:{request.user.email or request.user.username}",
                                              person=request.user)

    @admin.display(boolean=True, description="Secret stored")
    def secret_stored(self, obj: Provider) -> bool:
        return obj.has_api_secret


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "slug", "status"]
    list_filter = ["status", "provider"]
    search_fields = ["name", "slug"]


@admin.register(ProviderMembership)
class ProviderMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "provider", "role"]
    list_filter = ["role", "provider"]
    autocomplete_fields = ["user"]


@admin.register(CustomerMembership)
class CustomerMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "provider", "role"]
    list_filter = ["role", "provider"]
    autocomplete_fields = ["user"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the product writes (audit log, outbox, invitations): nobody edits them here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# E-mail outbox: read-only here; a retry goes through `manage.py email_retry_failed` (audited).
@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "provider", "recipient", "subject", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "provider"]
    search_fields = ["recipient", "subject", "dedupe_key"]
    date_hierarchy = "created_at"


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "provider", "customer", "actor_label", "action", "object_type", "object_repr",
                    "ip_address"]
    list_filter = ["provider", "actor_kind", "object_type"]
    search_fields = ["actor_label", "object_repr", "action", "object_id"]
    date_hierarchy = "created_at"


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "provider", "customer", "role", "created_at", "expires_at", "sent_at", "accepted_at",
                    "revoked_at"]
    list_filter = ["provider", "kind"]
    exclude = ["token_hash"]


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "kind", "ip", "user_agent"]
    list_filter = ["kind"]
    search_fields = ["user__email", "ip"]
    date_hierarchy = "at"
