"""Serves the sandbox app with cheroot, a threaded production WSGI server, so load tests measure the client.

`start()` runs it in background threads for tests and benchmarks (port 0 picks a free port); `serve_forever()`
blocks for the management command.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from cheroot import wsgi

from mining.whitebit.sandbox.app import SandboxApp
from mining.whitebit.sandbox.config import SandboxConfig

DEFAULT_THREADS = 32


class SandboxServer:
    def __init__(
        self, config: SandboxConfig, host: str = "127.0.0.1", port: int = 0, *, numthreads: int = DEFAULT_THREADS,
        real_clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self.app = SandboxApp(config) if real_clock is None else SandboxApp(config, real_clock=real_clock)
        self._host = host
        self._server = wsgi.Server(
            (host, port),
            self.app,
            numthreads=numthreads,
            server_name="whitebit-sandbox",
            request_queue_size=256,
            timeout=10,
            shutdown_timeout=2,
        )
        # The serve loop notices stop() only between polls; a short poll makes stop() (and test teardown) prompt.
        self._server.expiration_interval = 0.1
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        bound = self._server.bind_addr
        if not isinstance(bound, tuple):
            raise RuntimeError("the sandbox server is not bound to a TCP port")
        return int(bound[1])

    @property
    def base_url(self) -> str:
        host = self._host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> str:
        """Bind, start serving in a daemon thread, and return the base URL (with the real port when port was 0)."""
        if self._thread is not None:
            raise RuntimeError("the sandbox server is already running")
        self._server.prepare()  # binds now, so the ephemeral port is known before returning
        self._thread = threading.Thread(target=self._server.serve, name="whitebit-sandbox", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self.app.shutdown()
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def serve_forever(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Block serving requests until KeyboardInterrupt or SystemExit, then stop cleanly.

        `on_ready` gets the base URL once the socket is bound (the real port is only known then).
        """
        try:
            self._server.prepare()
            if on_ready is not None:
                on_ready(self.base_url)
            self._server.serve()
        finally:
            self.app.shutdown()
            self._server.stop()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
