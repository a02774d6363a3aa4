"""Django admin for platform superusers. The API secret is write-only here too: a blank field keeps it."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from tenants.models import (
    AuditEntry,
    Customer,
    CustomerMembership,
    Invitation,
    OutboundEmail,
    Provider,
    ProviderMembership,
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
        if self.cleaned_data.get("clear_api_secret"):
            provider.set_api_secret("")
        elif self.cleaned_data.get("api_secret"):
            provider.set_api_secret(self.cleaned_data["api_secret"])
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
