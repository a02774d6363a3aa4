"""Reads of labels: the staff list with usage counts, the choices of a label filter, and the filters themselves.

Every list shows its rows' labels through one prefetch (`with_labels`), so the query count stays constant in rows.
Filters are EXISTS subqueries: a row matches once however many of its accounts or workers carry the label.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from mining.models import MiningAccount, Worker
from mining.models.labels import AccountLabel, Label, WorkerLabel
from tenants.access import Scope, ScopeKind, scoped


def _count_of(model):
    return Subquery(model.objects.filter(label=OuterRef("pk")).values("label").annotate(n=Count("pk")).values("n"))


def label_list(*, scope: Scope) -> QuerySet[Label]:
    """The provider's labels with how many accounts and workers carry each (one query)."""
    return scoped(Label, scope).annotate(
        account_count=_count_of(AccountLabel), worker_count=_count_of(WorkerLabel)
    ).order_by("kind", "name")


def label_choices(*, scope: Scope) -> QuerySet[Label]:
    """Labels a list may be filtered by: all of the provider's for staff; for a customer, those on its own
    accounts and workers (a customer never learns the provider's other labels)."""
    if scope.kind != ScopeKind.CUSTOMER:
        return scoped(Label, scope).order_by("kind", "name")
    on_workers = scoped(WorkerLabel, scope).values("label_id")
    on_accounts = scoped(AccountLabel, scope).values("label_id")
    return (Label.objects.filter(provider_id=scope.provider_id)
            .filter(Q(pk__in=on_workers) | Q(pk__in=on_accounts)).order_by("kind", "name"))


def with_labels(qs: QuerySet, *, as_list: bool = False) -> QuerySet:
    """Rows with their labels in one extra query for the whole page; `as_list` puts them in `row.label_list` for
    templates (each `.labels.all` in a template builds a queryset)."""
    ordered = Label.objects.order_by("kind", "name")
    return qs.prefetch_related(Prefetch("labels", queryset=ordered, to_attr="label_list" if as_list else None))


def with_worker_labels(qs: QuerySet) -> QuerySet:
    """Workers with their own labels and their account's (a site set on the account tags its workers): two extra
    queries for the whole page. As plain lists (`worker.label_list`, `worker.account.label_list`): calling
    `.labels.all` per row builds two querysets per row, which was a fifth of the workers page's time."""
    ordered = Label.objects.order_by("kind", "name")
    return qs.prefetch_related(Prefetch("labels", queryset=ordered, to_attr="label_list"),
                               Prefetch("account__labels", queryset=ordered, to_attr="label_list"))


def _account_has(label_id: int, account_ref: str):
    return Exists(AccountLabel.objects.filter(account_id=OuterRef(account_ref), label_id=label_id))


def _worker_has(label_id: int, worker_ref: str):
    return Exists(WorkerLabel.objects.filter(worker_id=OuterRef(worker_ref), label_id=label_id))


def accounts_with_label(qs: QuerySet, label_id: int | None) -> QuerySet:
    return qs if label_id is None else qs.filter(_account_has(label_id, "pk"))


def workers_with_label(qs: QuerySet, label_id: int | None) -> QuerySet:
    """Workers carrying the label themselves, or whose account carries it (a site label on an account tags its
    workers too)."""
    if label_id is None:
        return qs
    return qs.filter(_worker_has(label_id, "pk") | _account_has(label_id, "account_id"))


def customers_with_label(qs: QuerySet, label_id: int | None) -> QuerySet:
    """Customers holding an account with the label, or an account with a worker that has it."""
    if label_id is None:
        return qs
    by_account = MiningAccount.objects.filter(customer_id=OuterRef("pk")).filter(_account_has(label_id, "pk"))
    by_worker = Worker.objects.filter(customer_id=OuterRef("pk")).filter(_worker_has(label_id, "pk"))
    return qs.filter(Exists(by_account) | Exists(by_worker))


def alerts_with_label(qs: QuerySet, label_id: int | None) -> QuerySet:
    """Alerts about an account or a worker that carries the label."""
    if label_id is None:
        return qs
    return qs.filter(_account_has(label_id, "account_id") | _worker_has(label_id, "worker_id"))
