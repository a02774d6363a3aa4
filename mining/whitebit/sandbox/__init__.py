"""A simulated WhiteBIT mining pool that speaks the real wire protocol over real HTTP on loopback.

The client, its tests and the benchmarks talk to this instead of a mock, so the signing, nonce, rate-limit and
error paths they exercise are the ones production will hit. See `docs/SANDBOX.md` for running it.
"""

from mining.whitebit.sandbox.config import SandboxConfig
from mining.whitebit.sandbox.server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer"]
