"""Read-mostly admin for platform superusers: synced data is the pool's, so it is not edited here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from mining.models import Alert, AlertRule, MiningAccount, Reward, SyncState, WatcherLink, Worker
from mining.services.accounts import mining_account_assign, mining_account_assign_start
from tenants.access import scope_for_system
from tenants.audit import audit_record, audit_snapshot
from tenants.models import Customer


class ReadOnlyAdmin(admin.ModelAdmin):
    """Synced rows change only through the sync; editing them here would be overwritten (or worse, believed)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MiningAccountAdminForm(forms.ModelForm):
    """The holder is chosen among the account's own provider's customers, and changes through the service."""

    effective_on = forms.DateField(
        required=False, help_text="First UTC day the new customer holds the account (default: today). "
        "Rows dated before it stay with the previous customer.",
    )

    class Meta:
        model = MiningAccount
        fields = ["customer", "label", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        provider_id = self.instance.provider_id if self.instance and self.instance.pk else None
        self.fields["customer"].queryset = Customer.objects.filter(provider_id=provider_id)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "customer" in self.changed_data and self.instance.pk:
            try:
                mining_account_assign_start(account=self.instance, effective_on=data.get("effective_on"))
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


@admin.register(MiningAccount)
class MiningAccountAdmin(admin.ModelAdmin):
    form = MiningAccountAdminForm
    list_display = ["name", "provider", "customer", "is_active", "sync_status", "last_synced_at"]
    list_filter = ["sync_status", "is_active", "provider"]
    search_fields = ["name", "label"]
    readonly_fields = [f.name for f in MiningAccount._meta.fields if f.name not in {"customer", "label", "is_active"}]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # accounts come from the pool (import) or the portal's create flow

    def save_model(self, request: HttpRequest, obj: MiningAccount, form: forms.ModelForm, change: bool) -> None:
        """Label and pause are plain fields; the holder goes through `mining_account_assign` (dated, audited)."""
        scope = scope_for_system(provider_id=obj.provider_id, actor=f"admin:{request.user.get_username()}")
        new_customer = form.cleaned_data.get("customer")
        with transaction.atomic():
            current = MiningAccount.objects.select_for_update().get(pk=obj.pk)
            before = audit_snapshot(current, ["label", "is_active"])
            MiningAccount.objects.filter(pk=obj.pk).update(label=obj.label, is_active=obj.is_active)
            after = {"label": obj.label, "is_active": obj.is_active}
            if before != after:
                audit_record(scope=scope, action="mining_account.update", target=current, before=before, after=after)
            if "customer" in form.changed_data:
                mining_account_assign(scope=scope, account_id=obj.pk,
                                      customer_id=new_customer.pk if new_customer else None,
                                      effective_on=form.cleaned_data.get("effective_on"))
        obj.refresh_from_db()


@admin.register(Worker)
class WorkerAdmin(ReadOnlyAdmin):
    list_display = ["name", "account", "status", "current_hashrate_hs", "last_seen_online_at"]
    list_filter = ["status", "provider"]
    search_fields = ["name", "account__name"]


@admin.register(Reward)
class RewardAdmin(ReadOnlyAdmin):
    list_display = ["account", "date", "total_reward_sats", "reward_sats", "fee_sats", "status"]
    list_filter = ["status", "provider"]
    date_hierarchy = "date"


@admin.register(WatcherLink)
class WatcherLinkAdmin(ReadOnlyAdmin):
    list_display = ["name", "provider", "customer", "is_active", "live_until_at"]
    list_filter = ["is_active", "provider"]


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin):
    list_display = ["account", "dataset", "watermark_at", "last_success_at", "consecutive_failures"]
    list_filter = ["dataset", "provider"]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "provider", "customer", "account", "duration_minutes", "is_enabled"]
    list_filter = ["kind", "provider"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["kind", "provider", "account", "opened_at", "resolved_at"]
    list_filter = ["kind", "provider"]
