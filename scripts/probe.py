"""The container healthcheck (docker-compose.yml runs it): GET a local URL as the portal's own host name.

Why not a bare `urlopen('http://127.0.0.1:8000/readyz')`: Django answers 400 to a Host header that is not in
ALLOWED_HOSTS, so the probe sends the first allowed host instead. Redirects are not followed (a 301 to HTTPS
would leave the container), and only a 200 counts as healthy. Standard library only: it must start fast.

    python scripts/probe.py http://127.0.0.1:8000/readyz
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    """The first usable entry of ALLOWED_HOSTS (".example.com" means example.com and its subdomains)."""
    for raw in allowed_hosts.split(","):
        host = raw.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else "http://127.0.0.1:8000/readyz"
    host = probe_host(os.environ.get("ALLOWED_HOSTS", ""))
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310 - a fixed local URL
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=float(os.environ.get("PROBE_TIMEOUT_S", "4"))) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        print(f"probe {url} (Host: {host}): {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"probe {url} (Host: {host}): HTTP {status}", file=sys.stderr)
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
