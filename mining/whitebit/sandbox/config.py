"""Settings of one sandbox pool. Defaults mirror the contract; the [I] choices are switches so tests can try both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal


@dataclass
class SandboxConfig:
    """Everything that shapes the sandbox's answers.

    `now` freezes the *data* clock (what the fleet has produced so far); nonces and the "not in the future" check
    always use the real clock, so a client that asks for data up to its own now never gets an error.
    """

    api_key: str
    api_secret: str
    seed: int = 1
    accounts: int = 3
    workers: int = 5
    history_days: int = 7
    now: datetime | None = None
    latency_ms: int = 0
    rate_limit: int = 1000
    rate_window_s: float = 10.0
    # Contract §5 [I]: the gateway's 429 is plain text; True answers the JSON envelope instead.
    rate_limit_json_body: bool = False
    max_accounts: int = 1000
    watcher_link_cap: int = 3
    nonce_window_ms: int = 5000
    # Extra key -> secret pairs that authenticate against the same fleet (e.g. one key per tenant in tests).
    extra_credentials: dict[str, str] = field(default_factory=dict)
    # Gross FPPS rate in BTC per PH/s per day; 0.005 makes a 100 TH/s account earn about 0.0005 BTC a day.
    fpps_btc_per_ph_day: Decimal = Decimal("0.005")
    # [I] `workers/names` lists "online" workers; True also lists low-hashrate ones (they are connected and hashing).
    worker_names_include_low: bool = True
    # Timestamps up to this many seconds past the real clock are not "in the future" (client clock skew).
    clock_skew_s: int = 5

    def __post_init__(self) -> None:
        problems = []
        if not self.api_key or not self.api_secret:
            problems.append("api_key and api_secret must be non-empty")
        if self.accounts < 0 or self.workers < 0:
            problems.append("accounts and workers must be >= 0")
        if self.history_days < 1:
            problems.append("history_days must be >= 1")
        if self.now is not None and (self.now.tzinfo is None or self.now.utcoffset() is None):
            problems.append("now must be an aware datetime")
        if self.latency_ms < 0:
            problems.append("latency_ms must be >= 0")
        if self.rate_limit < 1 or self.rate_window_s <= 0:
            problems.append("rate_limit must be >= 1 and rate_window_s > 0")
        if self.max_accounts < 0 or self.watcher_link_cap < 0:
            problems.append("max_accounts and watcher_link_cap must be >= 0")
        if self.nonce_window_ms < 0:
            problems.append("nonce_window_ms must be >= 0")
        if not isinstance(self.fpps_btc_per_ph_day, Decimal) or self.fpps_btc_per_ph_day <= 0:
            problems.append("fpps_btc_per_ph_day must be a positive Decimal")
        if problems:
            raise ValueError("invalid SandboxConfig: " + "; ".join(problems))
        if self.now is not None:
            self.now = self.now.astimezone(UTC)

    def credentials(self) -> dict[str, str]:
        return {**self.extra_credentials, self.api_key: self.api_secret}
