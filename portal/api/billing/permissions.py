"""Billing through a token needs the token's `billing` scope (to read, too: statements are the provider's and the
customer's books, which a monitoring token has no business seeing); writing needs `billing` and `write`.

Session users read with their membership (any member sees what their scope holds) and write with MANAGE_BILLING,
which the billing services check themselves.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


class BillingTokenScope(BasePermission):
    message = "This API token has no billing scope; billing data needs a token with the billing scope."

    def has_permission(self, request, view) -> bool:
        token = getattr(request.user, "token", None)
        if token is None:
            return True
        scopes = set(token.scopes)
        if "billing" not in scopes:
            self.message = (f"This API token's scopes ({', '.join(sorted(scopes))}) do not include billing, which "
                            "reading and writing billing data needs.")
            return False
        if request.method not in SAFE_METHODS and "write" not in scopes:
            self.message = (f"This API token's scopes ({', '.join(sorted(scopes))}) do not allow billing writes: "
                            "they need both billing and write.")
            return False
        return True
