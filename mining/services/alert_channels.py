"""Alert channels: create (secrets shown once), test, resume, delete; the Telegram bot and chat binding; mutes.

Who may: provider staff with MANAGE_ACCOUNTS manage the provider's channels (and see every customer's); a
customer's admin (MANAGE_CUSTOMER_USERS, as for the alert e-mail settings) manages the customer's own. Secrets
(the webhook URL, which carries its token; the `whsec_` signing secret; the bot token) are encrypted with
`tenants.crypto` and never rendered again: create returns the signing secret and the Telegram code once.
Telegram chats are bound without anybody typing a chat id: the portal shows a one-time code, the user sends
`/start <code>` to the provider's bot, and beat's `telegram_poll` (getUpdates) binds the chat that sent it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from mining.models import AlertChannel, AlertKind, AlertMute, AlertRule, ChannelKind, MiningAccount, TelegramBot, Worker
from mining.services.alert_transport import delivery_enqueue
from tenants.access import Capability, Scope, UNSCOPED_across_all_tenants, get_in_scope, scope_for_system, scoped
from tenants.audit import audit_record
from tenants.crypto import secret_decrypt, secret_encrypt
from tenants.models import Customer

logger = logging.getLogger(__name__)
URL_KINDS = {ChannelKind.SLACK, ChannelKind.TEAMS, ChannelKind.DISCORD, ChannelKind.WEBHOOK}
CODE_TTL = timedelta(hours=1)


def _require_manage(scope: Scope, customer_id: int | None) -> None:
    """Staff manage every channel of their provider; a customer's admin only the customer's own."""
    if scope.is_staff:
        scope.require(Capability.MANAGE_ACCOUNTS)
        return
    if customer_id != scope.customer_id:
        raise PermissionDenied("A customer manages its own channels only.")
    scope.require(Capability.MANAGE_CUSTOMER_USERS)


@dataclass(frozen=True)
class ChannelCreated:
    channel: AlertChannel
    secret: str = ""  # the whsec_ signing secret: shown once
    bind_code: str = ""  # Telegram: send "/start <code>" to the bot within the hour


def _hint(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or ''}/…{url[-4:]}"


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def alert_channel_create(
    *, scope: Scope, kind: str, name: str, customer_id: int | None = None, url: str = "",
    emails: list[str] | None = None, kinds: list[str] | None = None, timezone_name: str = "",
    now: datetime | None = None,
) -> ChannelCreated:
    """Check every field first (errors by field, nothing written), then create and audit (never the secret)."""
    now = now or timezone.now()
    if not scope.is_staff:
        customer_id = scope.customer_id
    _require_manage(scope, customer_id)
    errors: dict[str, str] = {}
    if kind not in ChannelKind.values:
        errors["kind"] = "Choose a kind of channel."
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        errors["name"] = "Give a name of 1–80 characters."
    if kind in URL_KINDS:
        parts = urlsplit(url or "")
        allowed = ("https", "http") if settings.ALERT_WEBHOOK_ALLOW_HTTP else ("https",)
        if parts.scheme not in allowed or not parts.hostname:
            errors["url"] = "Paste the webhook address the service gave you (https://…)."
    clean_emails: list[str] = []
    if kind == ChannelKind.EMAIL:
        for address in emails or []:
            try:
                validate_email(address.strip())
            except ValidationError:
                errors["emails"] = f"Not an e-mail address: {address!r}."
                break
            clean_emails.append(address.strip())
        if not clean_emails and "emails" not in errors:
            errors["emails"] = "Give at least one address."
    bad_kinds = [k for k in (kinds or []) if k not in AlertKind.values]
    if bad_kinds:
        errors["kinds"] = "Unknown alert kinds: " + ", ".join(map(str, bad_kinds)) + "."
    if kind == ChannelKind.TELEGRAM and not scoped(TelegramBot, scope.provider_wide_reads()).exists():
        errors["kind"] = "The provider has not set up its Telegram bot yet."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if customer_id is not None:
            get_in_scope(Customer, scope, pk=customer_id)
        secret = code = ""
        fields = {"kind": kind, "name": name, "emails": clean_emails, "kinds": sorted(set(kinds or []))}
        if kind in URL_KINDS:
            fields.update(target_encrypted=secret_encrypt(url), target_hint=_hint(url))
        if kind == ChannelKind.WEBHOOK:
            secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
            fields["secret_encrypted"] = secret_encrypt(secret)
        if kind == ChannelKind.TELEGRAM:
            code = secrets.token_hex(4)
            fields.update(bind_code_hash=_code_hash(code), bind_code_expires_at=now + CODE_TTL,
                          status=AlertChannel.Status.PENDING)
        channel = AlertChannel.objects.create(
            provider_id=scope.provider_id, customer_id=customer_id, created_at=now, created_by_id=scope.user_id,
            timezone=timezone_name or "UTC", **fields)
        audit_record(scope=scope, action="alert_channel.create", target=channel,
                     after={"kind": kind, "name": name, "customer_id": customer_id, "kinds": fields["kinds"]})
    return ChannelCreated(channel, secret=secret, bind_code=code)


def alert_channel_delete(*, scope: Scope, channel_id: int) -> None:
    with transaction.atomic():
        channel = get_in_scope(AlertChannel.objects.select_for_update(), scope, pk=channel_id)
        _require_manage(scope, channel.customer_id)
        audit_record(scope=scope, action="alert_channel.delete", target=channel,
                     before={"kind": channel.kind, "name": channel.name})
        channel.delete()


def alert_channel_resume(*, scope: Scope, channel_id: int) -> AlertChannel:
    """A paused channel (its owner fixed the cause) takes alerts again."""
    with transaction.atomic():
        channel = get_in_scope(AlertChannel.objects.select_for_update(), scope, pk=channel_id)
        _require_manage(scope, channel.customer_id)
        if channel.status == AlertChannel.Status.PAUSED:
            channel.status, channel.failures_in_row, channel.paused_reason = AlertChannel.Status.ACTIVE, 0, ""
            channel.save(update_fields=["status", "failures_in_row", "paused_reason"])
            audit_record(scope=scope, action="alert_channel.resume", target=channel,
                         before={"status": "paused"}, after={"status": "active"})
    return channel


def alert_channel_test(*, scope: Scope, channel_id: int, now: datetime | None = None) -> int:
    """Queue a test message (a new event each time, so each click is one message); returns the delivery id."""
    now = now or timezone.now()
    with transaction.atomic():
        channel = get_in_scope(AlertChannel, scope, pk=channel_id)
        _require_manage(scope, channel.customer_id)
        if channel.status == AlertChannel.Status.PENDING:
            raise ValidationError({"channel": "Bind the chat first: send the code to the bot."})
        key = f"test:{now:%Y%m%d%H%M%S%f}"
        delivery_id = delivery_enqueue(
            channel=channel, incident=None, event="test", event_key=key, title="Test message from the portal",
            text=f"This is a test of the channel “{channel.name}”. If you read it, alerts will reach you here.",
            data={"test": True, "channel": channel.name}, now=now)
        audit_record(scope=scope, action="alert_channel.test", target=channel)
    return delivery_id or 0


# --- Telegram ------------------------------------------------------------------------------------------------------


def telegram_bot_set(*, scope: Scope, token: str, now: datetime | None = None) -> TelegramBot:
    """Store the provider's bot token (encrypted; never shown again). A blank token changes nothing."""
    scope.require(Capability.MANAGE_CREDENTIALS)
    now = now or timezone.now()
    token = (token or "").strip()
    if not token or ":" not in token or len(token) > 100:
        raise ValidationError({"token": "Paste the token BotFather gave you (digits, a colon, then letters)."})
    with transaction.atomic():
        bot, created = TelegramBot.objects.update_or_create(
            provider_id=scope.provider_id, defaults={"token_encrypted": secret_encrypt(token), "updated_at": now})
        audit_record(scope=scope, action="telegram_bot.set", target=bot, after={"token": "(changed)"})
    return bot


def telegram_token(*, provider_id: int) -> str:
    row = scoped(TelegramBot, scope_for_system(provider_id=provider_id)).values_list("token_encrypted",
                                                                                       flat=True).first()
    return secret_decrypt(row) if row else ""


def telegram_poll(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: read each bot's new messages (getUpdates from its offset) and bind chats that sent a valid code."""
    now = now or timezone.now()
    bound = read = 0
    bots = UNSCOPED_across_all_tenants(TelegramBot, reason="telegram poll: each bot's own updates")
    for bot in bots.order_by("pk"):
        base = f"{settings.TELEGRAM_API_BASE_URL}/bot{secret_decrypt(bot.token_encrypted)}"
        try:
            answer = requests.post(f"{base}/getUpdates", json={"offset": bot.update_offset, "timeout": 0},
                                   timeout=settings.ALERT_DELIVERY_TIMEOUT_S, allow_redirects=False)
            updates = answer.json().get("result", []) if answer.ok else []
        except (requests.RequestException, ValueError):
            logger.warning("telegram getUpdates failed for provider %s; next tick tries again", bot.provider_id)
            continue
        offset = bot.update_offset
        for update in updates:
            read += 1
            offset = max(offset, int(update.get("update_id", 0)) + 1)
            message = update.get("message") or {}
            text, chat = (message.get("text") or "").strip(), (message.get("chat") or {}).get("id")
            if text.startswith("/start ") and chat is not None:
                if _bind(bot.provider_id, text.split(maxsplit=1)[1], str(chat), now):
                    bound += 1
                    _say(base, chat, "This chat now receives the portal's alerts.")
        TelegramBot.objects.filter(pk=bot.pk, update_offset__lt=offset).update(update_offset=offset)
    return {"read": read, "bound": bound}


def _bind(provider_id: int, code: str, chat_id: str, now: datetime) -> bool:
    scope = scope_for_system(provider_id=provider_id, actor="task:telegram_poll")
    with transaction.atomic():
        channel = scoped(AlertChannel, scope).select_for_update().filter(
            kind=ChannelKind.TELEGRAM, status=AlertChannel.Status.PENDING, bind_code_hash=_code_hash(code),
            bind_code_expires_at__gt=now).first()
        if channel is None:
            return False
        channel.chat_id, channel.status, channel.bind_code_hash = chat_id, AlertChannel.Status.ACTIVE, ""
        channel.save(update_fields=["chat_id", "status", "bind_code_hash"])
        audit_record(scope=scope, action="alert_channel.bind", target=channel, after={"status": "active"})
    return True


def _say(base: str, chat_id, text: str) -> None:
    try:
        requests.post(f"{base}/sendMessage", json={"chat_id": chat_id, "text": text},
                      timeout=settings.ALERT_DELIVERY_TIMEOUT_S, allow_redirects=False)
    except requests.RequestException:
        logger.warning("telegram confirmation not sent to chat %s", chat_id)


# --- mutes ---------------------------------------------------------------------------------------------------------


def alert_mute_create(*, scope: Scope, until_at: datetime, worker_id: int | None = None,
                      account_id: int | None = None, rule_id: int | None = None, reason: str = "",
                      now: datetime | None = None) -> AlertMute:
    """Mute (or snooze) one worker, account or rule until `until_at`; incidents hold their messages meanwhile."""
    scope.require(Capability.MANAGE_ACCOUNTS)
    now = now or timezone.now()
    if sum(x is not None for x in (worker_id, account_id, rule_id)) != 1:
        raise ValidationError({"target": "Mute one worker, one account or one rule."})
    if until_at <= now:
        raise ValidationError({"until_at": "Give a time in the future."})
    with transaction.atomic():
        worker = get_in_scope(Worker, scope, pk=worker_id) if worker_id else None
        account = get_in_scope(MiningAccount, scope, pk=account_id) if account_id else None
        rule = get_in_scope(AlertRule, scope, pk=rule_id) if rule_id else None
        customer_id = (worker or account).customer_id if (worker or account) else None
        mute = AlertMute.objects.create(provider_id=scope.provider_id, customer_id=customer_id, worker=worker,
                                        account=account, rule=rule, until_at=until_at, reason=reason[:200],
                                        created_at=now, created_by_id=scope.user_id)
        audit_record(scope=scope, action="alert_mute.create", target=mute,
                     after={"until_at": until_at.isoformat(), "reason": reason[:200]})
    return mute


def alert_mute_end(*, scope: Scope, mute_id: int, now: datetime | None = None) -> None:
    scope.require(Capability.MANAGE_ACCOUNTS)
    now = now or timezone.now()
    with transaction.atomic():
        mute = get_in_scope(AlertMute.objects.select_for_update(), scope, pk=mute_id)
        if mute.until_at > now:
            mute.until_at = now
            mute.save(update_fields=["until_at"])
            audit_record(scope=scope, action="alert_mute.end", target=mute)
