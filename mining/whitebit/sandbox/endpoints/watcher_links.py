"""`watcher-links/create` and `watcher-links/list`: read-only links over accounts, capped per account."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from mining.whitebit.sandbox.endpoints.common import require_account
from mining.whitebit.sandbox.fields import NAME_RE, Errors, enum_field, string_field
from mining.whitebit.sandbox.http import Reply, json_reply, validation_failed
from mining.whitebit.sandbox.state import WATCHER_LINK_BASE, WatcherLink
from mining.whitebit.sandbox.worker_model import DAY, HOUR

if TYPE_CHECKING:
    from mining.whitebit.sandbox.app import SandboxApp

WATCHER_PERMISSIONS = ("dashboard", "rewards", "workers")
WATCHER_LIFETIMES = {"1h": HOUR, "24h": DAY, "7d": 7 * DAY, "always": None}


def _validated(body: dict[str, Any]) -> tuple[list[Any], str, list[Any], str]:
    errors = Errors()
    accounts = body.get("accounts")
    if accounts is None:
        errors.add("accounts", "The accounts field is required.")
    elif not isinstance(accounts, list):
        errors.add("accounts", "The accounts field must be an array.")
    elif not accounts:
        errors.add("accounts", "The accounts field must have at least 1 items.")
    else:
        for i, item in enumerate(accounts):
            if not isinstance(item, str) or not item:
                errors.add(f"accounts.{i}", f"The accounts.{i} field must be a string.")
            elif len(item) > 255:
                errors.add(f"accounts.{i}", f"The accounts.{i} field must not be greater than 255 characters.")
    name = string_field(body, "name", errors, required=True, pattern=NAME_RE)
    permissions = body.get("permissions")
    if permissions is None:
        errors.add("permissions", "The permissions field is required.")
    elif not isinstance(permissions, list):
        errors.add("permissions", "The permissions field must be an array.")
    elif not 1 <= len(permissions) <= 3:
        errors.add(
            "permissions",
            "The permissions field must have at least 1 items."
            if not permissions
            else "The permissions field must not have more than 3 items.",
        )
    else:
        for i, item in enumerate(permissions):
            if item not in WATCHER_PERMISSIONS:
                errors.add(f"permissions.{i}", f"The selected permissions.{i} is invalid.")
            elif permissions.index(item) != i:
                errors.add(f"permissions.{i}", f"The permissions.{i} field has a duplicate value.")
    live_until = enum_field(body, "liveUntil", errors, WATCHER_LIFETIMES, default=None)
    errors.raise_if_any()
    assert isinstance(accounts, list) and isinstance(permissions, list) and name is not None
    assert live_until is not None
    return accounts, name, permissions, live_until


def watcher_create(app: SandboxApp, body: dict[str, Any]) -> Reply:
    accounts, name, permissions, live_until = _validated(body)
    targets = list(dict.fromkeys(accounts))
    state = app.state
    with state.lock:
        for account in targets:
            if account not in state.accounts:
                raise validation_failed({"user": [f"Mining pool account '{account}' not found"]})
        now = app.data_now()
        for account in targets:
            active = sum(1 for link in state.links if account in link.accounts and link.active(now))
            if active >= app.config.watcher_link_cap:
                raise validation_failed({"user": ["Limit exceeded"]})
        lifetime = WATCHER_LIFETIMES[live_until]
        link = WatcherLink(
            id=str(uuid.uuid4()),
            accounts=targets,
            name=name,
            permissions=list(permissions),
            live_until=None if lifetime is None else now + lifetime,
            created_at=now,
            seq=state.next_seq(),
        )
        state.links.append(link)
    data = {"id": link.id, "link": WATCHER_LINK_BASE + link.id, "liveUntil": link.live_until, "createdAt": now}
    return json_reply(201, {"data": data})


def watcher_list(app: SandboxApp, body: dict[str, Any]) -> Reply:
    account = require_account(app, body)
    now = app.data_now()
    with app.state.lock:
        links = [link for link in app.state.links if account in link.accounts and link.active(now)]
    links.sort(key=lambda link: (link.created_at, link.seq), reverse=True)
    return json_reply(200, {"data": [link.as_json() for link in links]})
