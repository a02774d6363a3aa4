"""Helpers of the access tests: exactly-one-audit-entry, the e-mail task run as a worker runs it, links in mail."""

from __future__ import annotations

import contextlib
import re

from django.core import mail

from tenants.models import AuditEntry


@contextlib.contextmanager
def one_audit_entry(action: str):
    """The block writes exactly one audit entry, with this action; the entry is handed back in the list."""
    last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    found: list[AuditEntry] = []
    yield found
    entries = list(AuditEntry.objects.filter(pk__gt=last))
    assert [e.action for e in entries] == [action]
    found.extend(entries)


def no_secret_in(entry: AuditEntry, *secrets: str) -> None:
    text = str(AuditEntry.objects.filter(pk=entry.pk).values().get())
    for secret in secrets:
        assert secret not in text


def run_task(task, *args):
    """Run a task's body in this process, as a worker would after taking the message (no global eager mode)."""
    return task.apply(args=list(args)).get()


def link_in_last_mail(to: str, pattern: str) -> str:
    message = [m for m in mail.outbox if m.to == [to]][-1]
    match = re.search(pattern, message.body)
    assert match, message.body
    return match.group(0)
