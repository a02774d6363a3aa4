"""gunicorn's settings that must follow the portal's own (`gunicorn --config python:portal.gunicorn_conf ...`).

Why: gunicorn believes `X-Forwarded-Proto` (and its other secure-scheme headers) from 127.0.0.1 by default, whatever
the portal's `BEHIND_TLS_PROXY` says. It then sets `wsgi.url_scheme = https`, and Django's `is_secure()` is true
even with `SECURE_PROXY_SSL_HEADER` off: a plain-HTTP request from the same host (a local process, a proxy that does
not terminate TLS, a request forged through one) passes for HTTPS. So the trust follows the one switch: with
`BEHIND_TLS_PROXY` off gunicorn trusts no address; with it on, the proxy's addresses in `FORWARDED_ALLOW_IPS`
(loopback unless told). Parsed by django-environ, like portal/settings.py, so both read the switch the same way.
"""

from __future__ import annotations

import environ

_env = environ.Env()

BEHIND_TLS_PROXY = _env.bool("BEHIND_TLS_PROXY", default=False)
forwarded_allow_ips = _env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1,::1") if BEHIND_TLS_PROXY else ""
