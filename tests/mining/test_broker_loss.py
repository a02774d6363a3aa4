"""A worker survives its broker (issue 17 item 2): Redis killed with -9 while the worker holds unacknowledged
messages, then started again. On a Redis of our own, on a free port, with its data on disk like compose's."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from kombu import Connection, Consumer, Exchange, Producer, Queue

from mining.models import MiningAccount
from tests.fixtures.mining import pool_provider_make
from tests.mining.test_sync_durability import (
    ROOT,
    WorkerProcess,
    _data_clock_follows_the_wall,
    publish,
    wait_for,
)


class PrivateRedis:
    """A redis-server of the test's own: kill -9 it and start it again on the same port and data directory."""

    def __init__(self, data_dir: Path) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.data_dir = data_dir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.data_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout_s=10, what="the private redis-server")
        return self

    def _answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL: no shutdown, no save
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.kill()


def test_restoring_unacknowledged_messages_over_a_dead_connection_does_not_crash_and_loses_nothing(private_redis):
    """Kombu's own failure, step by step: after a broker loss Celery's consumer collects the connection (which
    clears the transport's client), then closes the consuming channels; the restore of the unacknowledged
    messages then met `AttributeError: 'NoneType' object has no attribute 'hostname'` and killed the worker."""
    conn = Connection(private_redis.url, transport_options={"visibility_timeout": 2})
    received = []
    channels = []
    for name in ("tasks", "other"):
        channel = conn.channel()
        channels.append(channel)
        queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
        for n in range(2):
            Producer(channel).publish({"n": n}, exchange=queue.exchange, routing_key=name, declare=[queue])
        Consumer(channel, queues=[queue], callbacks=[lambda body, message: received.append(body)],
                 prefetch_count=10).consume()
    deadline = time.monotonic() + 10
    while len(received) < 4 and time.monotonic() < deadline:
        try:
            conn.drain_events(timeout=0.5)
        except TimeoutError:
            pass
    assert len(received) == 4 and all(len(c.qos._delivered) == 2 for c in channels)  # held, not acknowledged
    private_redis.kill()
    conn.collect()  # what the consumer does with a connection that failed under it
    for channel in channels:
        channel.close()  # raised AttributeError('... no attribute hostname') before the guard
    # The broker comes back with its data: the messages were never lost, and return after the visibility timeout.
    private_redis.start()
    time.sleep(2.5)
    again = Connection(private_redis.url, transport_options={"visibility_timeout": 2})
    redelivered = []
    try:
        for name in ("tasks", "other"):
            queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
            Consumer(again.channel(), queues=[queue], callbacks=[lambda body, message: (redelivered.append(body),
                                                                                         message.ack())]).consume()
        deadline = time.monotonic() + 15
        while len(redelivered) < 4 and time.monotonic() < deadline:
            again.channel().qos.restore_visible(num=100, interval=1)
            try:
                again.drain_events(timeout=0.5)
            except TimeoutError:
                pass
    finally:
        again.release()
    assert sorted(b["n"] for b in redelivered) == [0, 0, 1, 1]


def _healthy(path: Path) -> bool:
    return subprocess.run([sys.executable, "scripts/worker_health.py", str(path), "30"], cwd=ROOT,
                          capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_survives_redis_killed_under_it_and_its_healthcheck_says_so(
        private_redis, sandbox_clean, fast_upstream_retries, tmp_path):
    _data_clock_follows_the_wall(sandbox_clean)
    pp = pool_provider_make(sandbox_clean)
    heartbeat = tmp_path / "worker-heartbeat"
    queue = "broker-loss"
    worker = WorkerProcess(queue, private_redis.url, WORKER_HEARTBEAT_FILE=str(heartbeat)).start()
    try:
        wait_for(lambda: _healthy(heartbeat), timeout_s=60, what="the worker to consume")
        for round_ in range(3):
            # Retries waiting for their countdown: held by the worker, unacknowledged, when Redis dies.
            for account in pp.accounts:
                publish("mining.tasks.sync_account", queue, private_redis.url, [pp.provider.pk, account.pk],
                        countdown=3600)
            time.sleep(1.0)
            private_redis.kill()
            wait_for(lambda: not _healthy(heartbeat), timeout_s=20, what="the healthcheck to fail")
            time.sleep(0.5 * round_)
            private_redis.start()
            wait_for(lambda: _healthy(heartbeat), timeout_s=60, what="the worker to consume again")
            assert worker.proc.poll() is None, f"the worker died in round {round_ + 1}"
        # It still does its work: the next cycle syncs every account.
        publish("mining.tasks.sync_fanout", queue, private_redis.url)
        wait_for(lambda: MiningAccount.objects.filter(provider=pp.provider, sync_status="ok").count()
                 == len(pp.accounts), timeout_s=120, what="every account synced after the broker came back")
    finally:
        worker.stop()


def test_settling_a_message_over_a_released_connection_does_not_crash_and_loses_nothing(private_redis):
    """Found by `scripts/chaos.py` (redis_kill; both sync workers died in one round): a sync whose retry could not be
    published (Redis down) is rejected after the consumer released its channel, and kombu's Redis `QoS.reject`
    (like `ack`) built a pool from the released connection: `AttributeError: 'NoneType' object has no attribute
    'client'`, "Unrecoverable error". The channel here is left as the worker's was: collected with the broker gone,
    its pools dropped (its restore had failed before making a new one)."""
    conn = Connection(private_redis.url, transport_options={"visibility_timeout": 2})
    held = []
    channel = conn.channel()
    queue = Queue("tasks", Exchange("tasks", type="direct"), routing_key="tasks")
    for n in range(2):
        Producer(channel).publish({"n": n}, exchange=queue.exchange, routing_key="tasks", declare=[queue])
    Consumer(channel, queues=[queue], callbacks=[lambda body, message: held.append(message)],
             prefetch_count=10).consume()
    deadline = time.monotonic() + 10
    while len(held) < 2 and time.monotonic() < deadline:
        try:
            conn.drain_events(timeout=0.5)
        except TimeoutError:
            pass
    assert len(held) == 2
    private_redis.kill()
    conn.collect()
    channel._disconnect_pools()
    assert channel.connection is None
    held[0].reject(requeue=False)  # raised AttributeError("… no attribute 'client'") before the guard
    held[1].ack()
    assert not channel.qos._delivered  # forgotten by the worker; still in the broker's unacked index
    private_redis.start()
    time.sleep(2.5)
    again = Connection(private_redis.url, transport_options={"visibility_timeout": 2})
    redelivered = []
    try:
        Consumer(again.channel(), queues=[queue], callbacks=[lambda body, message: (redelivered.append(body),
                                                                                     message.ack())]).consume()
        deadline = time.monotonic() + 15
        while len(redelivered) < 2 and time.monotonic() < deadline:
            again.channel().qos.restore_visible(num=100, interval=1)
            try:
                again.drain_events(timeout=0.5)
            except TimeoutError:
                pass
    finally:
        again.release()
    assert sorted(b["n"] for b in redelivered) == [0, 1]
