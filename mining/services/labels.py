"""Labels from the staff console: create and delete a provider's labels, tag accounts and (in bulk) workers.

Each write checks the capability, answers bad input field by field with nothing written, and records one audit
entry in its own transaction. Tagging is idempotent: adding a label twice, or removing one that is not there,
changes nothing (a double-clicked submit never doubles a row).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from mining.models import MiningAccount, Worker
from mining.models.labels import LABEL_NAME_MAX, AccountLabel, Label, LabelKind, WorkerLabel
from tenants.access import Capability, Scope, get_in_scope, scoped
from tenants.audit import audit_record
from tenants.errors import NotFound

MAX_WORKERS_PER_CHANGE = 1000


def _label_errors(*, scope: Scope, kind: str, name: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if kind not in LabelKind.values:
        errors["kind"] = "Choose site, rack, hardware batch or other."
    if not name:
        errors["name"] = "Give the label a name."
    elif len(name) > LABEL_NAME_MAX:
        errors["name"] = f"At most {LABEL_NAME_MAX} characters (this one has {len(name)})."
    elif "kind" not in errors and scoped(Label, scope).filter(kind=kind, name__iexact=name).exists():
        errors["name"] = f"There is already a {LabelKind(kind).label.lower()} label “{name}”."
    return errors


def label_create(*, scope: Scope, kind: str, name: str) -> Label:
    """A new label of the scope's provider; names are unique per kind, whatever their case."""
    scope.require(Capability.MANAGE_ACCOUNTS)
    name = " ".join((name or "").split())
    errors = _label_errors(scope=scope, kind=kind, name=name)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            label = Label.objects.create(provider_id=scope.provider_id, kind=kind, name=name)
            audit_record(scope=scope, action="label.create", target=label, after={"kind": kind, "name": name})
    except IntegrityError as exc:  # the same name submitted twice at once: the second one is the duplicate
        raise ValidationError({"name": f"There is already a {LabelKind(kind).label.lower()} label “{name}”."}) from exc
    return label


def label_delete(*, scope: Scope, label_id: int) -> None:
    """Delete a label and its links (the accounts and workers stay). Deleting twice is a 404 the second time."""
    scope.require(Capability.MANAGE_ACCOUNTS)
    with transaction.atomic():
        label = get_in_scope(Label.objects.select_for_update(), scope, pk=label_id)
        before = {"kind": label.kind, "name": label.name, "accounts": label.account_links.count(),
                  "workers": label.worker_links.count()}
        audit_record(scope=scope, action="label.delete", target=label, before=before)
        label.delete()


def _labels_in_scope(scope: Scope, label_ids: Iterable[int]) -> list[Label]:
    wanted = {int(i) for i in label_ids}
    labels = list(scoped(Label, scope).filter(pk__in=wanted))
    if len(labels) != len(wanted):
        raise NotFound("Not found")  # another provider's label is the same answer as a missing one
    return labels


def labels_set_for_account(*, scope: Scope, account_id: int, label_ids: Iterable[int]) -> MiningAccount:
    """The account carries exactly these labels afterwards."""
    scope.require(Capability.MANAGE_ACCOUNTS)
    with transaction.atomic():
        account = get_in_scope(MiningAccount.objects.select_for_update(), scope, pk=account_id)
        labels = _labels_in_scope(scope, label_ids)
        current = set(AccountLabel.objects.filter(provider_id=scope.provider_id, account=account)
                      .values_list("label_id", flat=True))
        wanted = {label.pk for label in labels}
        if current == wanted:
            return account
        AccountLabel.objects.filter(provider_id=scope.provider_id, account=account,
                                    label_id__in=current - wanted).delete()
        AccountLabel.objects.bulk_create(
            [AccountLabel(provider_id=scope.provider_id, account=account, label_id=pk) for pk in wanted - current],
            ignore_conflicts=True,
        )
        named = {label.pk: str(label) for label in Label.objects.filter(pk__in=current | wanted)}
        audit_record(scope=scope, action="mining_account.labels", target=account,
                     before={"labels": sorted(named[pk] for pk in current)},
                     after={"labels": sorted(named[pk] for pk in wanted)})
    return account


def labels_set_for_workers(*, scope: Scope, worker_ids: Iterable[int], label_id: int, add: bool) -> int:
    """Add the label to (or remove it from) the chosen workers; returns how many workers changed."""
    scope.require(Capability.MANAGE_ACCOUNTS)
    wanted = {int(i) for i in worker_ids}
    if not wanted:
        raise ValidationError({"workers": "Choose at least one worker."})
    if len(wanted) > MAX_WORKERS_PER_CHANGE:
        raise ValidationError({"workers": f"At most {MAX_WORKERS_PER_CHANGE} workers at once."})
    with transaction.atomic():
        label = get_in_scope(Label.objects.select_for_update(), scope, pk=label_id)
        found = set(scoped(Worker, scope).filter(pk__in=wanted).values_list("pk", flat=True))
        if found != wanted:
            raise NotFound("Not found")  # all or nothing: one foreign worker refuses the whole change
        links = WorkerLabel.objects.filter(provider_id=scope.provider_id, label=label, worker_id__in=wanted)
        if add:
            have = set(links.values_list("worker_id", flat=True))
            changed = sorted(wanted - have)
            WorkerLabel.objects.bulk_create(
                [WorkerLabel(provider_id=scope.provider_id, worker_id=pk, label=label) for pk in changed],
                ignore_conflicts=True,
            )
        else:
            changed = sorted(links.values_list("worker_id", flat=True))
            links.delete()
        if changed:
            audit_record(scope=scope, action="label.workers_add" if add else "label.workers_remove", target=label,
                         after={"workers": changed})
    return len(changed)
