"""Container healthcheck for a Celery worker: healthy while its heartbeat file is fresh (portal/worker_health.py).

The worker's consumer touches WORKER_HEARTBEAT_FILE every 10 s while it is connected and consuming, and removes
it when it stops or loses its broker. Usage: `python scripts/worker_health.py [PATH] [MAX_AGE_S]` (defaults: the
WORKER_HEARTBEAT_FILE environment variable, 60 s). Exit 0 healthy, 1 not (with the reason on stderr).
"""

from __future__ import annotations

import os
import sys
import time


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else os.environ.get("WORKER_HEARTBEAT_FILE", "")
    max_age_s = float(argv[2]) if len(argv) > 2 else 60.0
    if not path:
        print("no heartbeat file configured (WORKER_HEARTBEAT_FILE)", file=sys.stderr)
        return 1
    try:
        age_s = time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        print(f"{path} is missing: the worker is not consuming (starting, or its broker is gone)", file=sys.stderr)
        return 1
    if age_s > max_age_s:
        print(f"{path} is {age_s:.0f} s old (> {max_age_s:.0f} s): the worker stopped consuming", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
