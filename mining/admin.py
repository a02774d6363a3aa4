"""Read-mostly admin for platform superusers: synced data is the pool's, so it is not edited here."""

from __future__ import annotations

from django.contrib import admin

from mining.models import Alert, AlertRule, MiningAccount, Reward, SyncState, WatcherLink, Worker


class ReadOnlyAdmin(admin.ModelAdmin):
    """Synced rows change only through the sync; editing them here would be overwritten (or worse, believed)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MiningAccount)
class MiningAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "customer", "is_active", "sync_status", "last_synced_at"]
    list_filter = ["sync_status", "is_active", "provider"]
    search_fields = ["name", "label"]
    readonly_fields = [f.name for f in MiningAccount._meta.fields if f.name not in {"customer", "label", "is_active"}]


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
