"""Accounts created through the portal or the API were given a customer without a dated assignment, so the sync
wrote their rows to nobody. Give each such account the assignment it should have had (its whole history, as for a
first holder) and hand its rows written to nobody to that customer."""

from django.db import migrations

ACCOUNT_ROWS = ("Worker", "AccountHashrateSample", "WorkerHashrateSample", "Reward", "SyncState")


def assign(apps, schema_editor):
    MiningAccount = apps.get_model("mining", "MiningAccount")
    AccountAssignment = apps.get_model("mining", "AccountAssignment")
    RewardStatusChange = apps.get_model("mining", "RewardStatusChange")
    orphans = MiningAccount.objects.filter(customer__isnull=False, assignments__isnull=True)
    for account in orphans:
        AccountAssignment.objects.create(provider_id=account.provider_id, account=account,
                                         customer_id=account.customer_id, valid_from=None, valid_to=None)
        for name in ACCOUNT_ROWS:
            apps.get_model("mining", name).objects.filter(
                provider_id=account.provider_id, account=account, customer__isnull=True
            ).update(customer_id=account.customer_id)
        RewardStatusChange.objects.filter(
            provider_id=account.provider_id, reward__account=account, customer__isnull=True
        ).update(customer_id=account.customer_id)


class Migration(migrations.Migration):
    dependencies = [("mining", "0005_labels")]
    operations = [migrations.RunPython(assign, migrations.RunPython.noop)]
