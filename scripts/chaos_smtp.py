"""The mail experiment of `scripts/chaos.py`: alert mail queued while the mail server refuses, then is silent.

The workers' EMAIL_URL points at a loopback port this process owns. Down: nothing listens (connection refused).
Silent: a socket listens and nobody ever reads (the kernel completes the handshake; every SMTP read times out).
Up: a real SMTP server (aiosmtpd) that counts what arrives. The sync must go on during both faults (mail runs on
its own `notify` queue and worker), and once the server is up every message must arrive exactly once.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections import Counter

from scripts.chaos_stack import Stack, wait_until

PHASE_S = 8.0  # each of "down" and "silent"; a whole cycle (the fan-out this round sends) fits in it
PER_PHASE = 5  # alert messages queued per phase


class MailServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.received: Counter[str] = Counter()
        self._silent: socket.socket | None = None
        self._controller = None

    def down(self) -> None:
        self._stop()

    def silent(self) -> None:
        self._stop()
        self._silent = socket.socket()
        self._silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._silent.bind(("127.0.0.1", self.port))
        self._silent.listen(128)

    def up(self) -> None:
        from aiosmtpd.controller import Controller

        self._stop()
        server = self

        class Handler:
            async def handle_DATA(self, smtp, session, envelope):
                from email import message_from_bytes

                server.received[message_from_bytes(envelope.content)["Subject"]] += len(envelope.rcpt_tos)
                return "250 Message accepted for delivery"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def _stop(self) -> None:
        if self._silent is not None:
            self._silent.close()
            self._silent = None
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


_SERVERS: dict[int, MailServer] = {}
_QUEUED: list[str] = []


def _server(stack: Stack) -> MailServer:
    return _SERVERS.setdefault(stack.smtp_port, MailServer(stack.smtp_port))


def _queue_alerts(provider_id: int, phase: str) -> None:
    from django.db import transaction

    from tenants.email import email_enqueue

    for i in range(PER_PHASE):
        subject = f"Hashrate is low (chaos {phase} {i} {uuid.uuid4().hex[:8]})"
        with transaction.atomic():
            email_enqueue(provider_id=provider_id, recipients=["ops@miner.example"], subject=subject,
                          body="An alert sent during the fault run.", dedupe_key=f"chaos:{subject}")
        _QUEUED.append(subject)


def smtp_round(stack: Stack, provider_id: int, round_: int) -> tuple:
    from django.utils import timezone

    from mining.models import MiningAccount
    from scripts.chaos import mid_sync, sample

    server = _server(stack)
    before = sample(provider_id)
    fault_at, fault_wall = time.monotonic(), timezone.now()
    server.down()
    _queue_alerts(provider_id, "down")
    mid_sync(stack, provider_id)
    time.sleep(PHASE_S)
    server.silent()
    _queue_alerts(provider_id, "silent")
    time.sleep(PHASE_S)
    # The sync went on: every account finished a sync while mail could not be delivered.
    synced = MiningAccount.objects.filter(provider_id=provider_id, is_active=True,
                                          last_synced_at__gt=fault_wall).count()
    server.up()
    return fault_at, time.monotonic(), before, {"smtp": "down, then silent",
                                                "synced_while_mail_failed": synced, "accounts": len(before)}


def smtp_totals(stack: Stack, provider_id: int, timeout_s: float = 120) -> dict:
    """Every queued alert arrives once the server is up: none lost, none twice."""
    from tenants.models import OutboundEmail

    server = _server(stack)
    try:
        wait_until(lambda: all(server.received[s] for s in _QUEUED), timeout_s, "every alert to arrive", every_s=1)
    except RuntimeError:
        pass  # counted as lost below
    time.sleep(3)  # a duplicate chain would deliver again shortly after
    statuses = Counter(OutboundEmail.objects.filter(provider_id=provider_id, dedupe_key__startswith="chaos:")
                       .values_list("status", flat=True))
    server.down()
    return {"queued": len(_QUEUED), "lost": sum(1 for s in _QUEUED if not server.received[s]),
            "doubled": sum(n - 1 for s in _QUEUED if (n := server.received[s]) > 1), "outbox": dict(statuses)}
