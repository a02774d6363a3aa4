"""`accounts/create` and `accounts` (list): the key's mining accounts, seeded and created."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mining.whitebit.sandbox.fields import NAME_RE, Errors, page_field, string_field
from mining.whitebit.sandbox.http import Reply, json_reply, validation_failed
from mining.whitebit.sandbox.state import TIMELINE_START, Account

if TYPE_CHECKING:
    from mining.whitebit.sandbox.app import SandboxApp

DEFAULT_FEE = "2.5"


def accounts_create(app: SandboxApp, body: dict[str, Any]) -> Reply:
    errors = Errors()
    name = string_field(body, "name", errors, required=True, pattern=NAME_RE)
    string_field(body, "referralCode", errors, required=False, max_len=50)
    state = app.state
    with state.lock:
        if name is not None and name in state.accounts:
            errors.add("name", "The name has already been taken.")
        errors.raise_if_any()
        assert name is not None
        if len(state.accounts) >= app.config.max_accounts:
            raise validation_failed({"error": ["miningPool.validation.maxAccounts"]})
        account = Account(name, app.data_now(), state.next_seq(), seeded=False, fee_percent=DEFAULT_FEE)
        state.accounts[name] = account
        state.destinations[name] = [(TIMELINE_START, "main_balance", None)]
    return json_reply(200, {"data": {"name": account.name, "createdAt": account.created_at}})


def accounts_list(app: SandboxApp, body: dict[str, Any]) -> Reply:
    errors = Errors()
    name = string_field(body, "name", errors, required=False)
    limit = page_field(body, "limit", errors, default=30, low=1, high=100)
    offset = page_field(body, "offset", errors, default=0, low=0, high=10000)
    errors.raise_if_any()
    with app.state.lock:
        accounts = [a for a in app.state.accounts.values() if name is None or a.name == name]
    accounts.sort(key=lambda a: (a.created_at, a.seq), reverse=True)
    page = accounts[offset : offset + limit]
    data = [{"name": a.name, "createdAt": a.created_at} for a in page]
    return json_reply(200, {"data": data, "limit": limit, "offset": offset})
