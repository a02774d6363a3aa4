"""django-axes' lockout check as the first authentication backend.

Every sign-in form of the product (ours and the admin's) passes the request, so every one is counted and refused
per (user, address). Code that authenticates without a request (the test client's `login`, a shell) is not a
sign-in from an address and has nothing to count: it falls through to the password check instead of crashing.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
