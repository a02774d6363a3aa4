"""`payout-destination` and `payout-destination/edit`: where an account's rewards go, as a timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mining.whitebit.sandbox.btc_address import MAX_ADDRESS_LENGTH, is_valid_btc_address
from mining.whitebit.sandbox.fields import Errors, enum_field, string_field
from mining.whitebit.sandbox.http import Reply, json_reply, validation_failed

if TYPE_CHECKING:
    from mining.whitebit.sandbox.app import SandboxApp

PAYOUT_DESTINATIONS = ("main_balance", "external_address")


def payout_get(app: SandboxApp, body: dict[str, Any]) -> Reply:
    errors = Errors()
    account = string_field(body, "accountName", errors, required=True)
    errors.raise_if_any()
    assert account is not None
    if not app.state.account_exists(account):
        raise validation_failed({"user": ["Mining account not found."]})
    destination, address = app.state.current_destination(account)
    return json_reply(200, {"payoutDestination": destination, "externalAddress": address})


def payout_edit(app: SandboxApp, body: dict[str, Any]) -> Reply:
    """Appends to the account's timeline at the data clock: rewards settling from then on follow it."""
    errors = Errors()
    account = string_field(body, "accountName", errors, required=True)
    destination = enum_field(body, "destination", errors, PAYOUT_DESTINATIONS, default=None)
    address = None
    if destination == "external_address":
        raw = body.get("address")
        if raw is None or raw == "":
            errors.add("address", "miningPool.validation.payoutDestination.btcAddressRequired")
        elif not isinstance(raw, str) or len(raw) > MAX_ADDRESS_LENGTH or not is_valid_btc_address(raw):
            errors.add("address", "miningPool.validation.payoutDestination.invalidBtcAddress")
        else:
            address = raw
    errors.raise_if_any()
    assert account is not None and destination is not None
    with app.state.lock:
        if account not in app.state.accounts:
            raise validation_failed({"user": ["Mining account not found."]})
        app.state.destinations[account].append((app.data_now(), destination, address))
    return json_reply(200, {"payoutDestination": destination, "externalAddress": address})
