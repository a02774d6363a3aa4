"""A loopback server that accepts connections and never says a word: the dependency that hangs instead of failing.

It lets go of each connection after `hold_s`, so a client without a timeout fails the test instead of hanging
the suite forever.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def silent_server(hold_s: float = 30.0) -> Iterator[int]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[tuple[socket.socket, float]] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append((conn, time.monotonic() + hold_s))
            except TimeoutError:
                pass
            for conn, until in [h for h in held if h[1] <= time.monotonic()]:
                conn.close()
                held.remove((conn, until))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn, _ in held:
            conn.close()
        listener.close()
