"""Dataset: watcher links the pool lists; links it stops listing (expired) become inactive."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from mining.models import MiningAccount, SyncDataset, WatcherLink
from mining.services.sync.run import SyncRun, state_success
from mining.services.upsert import RowCounts


def sync_watcher_links(run: SyncRun, now: datetime) -> None:
    """Upsert the links the pool lists; ones it no longer lists (expired, revoked) become inactive."""
    client, account, report = run.client, run.account, run.report
    links = client.watcher_links_list(account=account.name)
    with transaction.atomic():
        run.lock_owner()
        state = run.state(SyncDataset.WATCHER_LINKS)
        existing, names = {}, {}
        if links:
            existing = {w.upstream_id: w for w in WatcherLink.objects.filter(
                provider_id=account.provider_id, upstream_id__in=[x.id for x in links])}
            names = {a.name: a for a in MiningAccount.objects.filter(
                provider_id=account.provider_id, name__in={n for x in links for n in x.accounts} | {account.name}
            )}
        counts = RowCounts()
        seen = set()
        for link in links:
            seen.add(link.id)
            values = {
                "name": link.name, "url": link.link, "permissions": list(link.permissions),
                "live_until_at": link.live_until_at, "upstream_created_at": link.created_at, "is_active": True,
            }
            obj = existing.get(link.id)
            if obj is None:
                obj = WatcherLink.objects.create(
                    **run.owner_at(now), upstream_id=link.id, last_seen_at=now, **values
                )
                counts.created += 1
            else:
                diff = {k: v for k, v in values.items() if getattr(obj, k) != v}
                WatcherLink.objects.filter(pk=obj.pk).update(last_seen_at=now, **diff)
                counts.updated += bool(diff)
                counts.unchanged += not diff
            wanted = {names[n].pk for n in link.accounts if n in names}
            have = set(obj.accounts.values_list("pk", flat=True))
            if wanted - have:
                obj.accounts.add(*(wanted - have))
        gone = WatcherLink.objects.filter(accounts=account, is_active=True).exclude(upstream_id__in=seen)
        counts.updated += gone.update(is_active=False)
        report.count("WatcherLink", counts)
        state_success(state, now=now, counts=counts, watermark_at=now)
