"""The one base for every API view: it resolves the caller's scope and cannot be bypassed (PostHog's routing.py).

* Authentication is a bearer token or the portal session (CSRF enforced); a token *is* its scope.
* `get_queryset`/`get_object` are final: they pass whatever the view's `scoped_queryset()` returns through
  `tenants.access.scoped()` again, so a view that forgets the scope still cannot serve another tenant's rows,
  and anything outside the scope is a 404. A subclass that tries to override them fails at import time.
* Writes that reach the pool run through `run_idempotent`, which honours the `Idempotency-Key` header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import permissions, viewsets
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from mining.whitebit.errors import AuthFailed, WhiteBitError
from portal.api.authentication import BearerTokenAuthentication, SessionAuthentication
from portal.api.exceptions import WorkspaceRequired
from portal.api.pagination import ApiCursorPagination
from portal.api.throttling import PerCallerRateThrottle
from tenants.access import Scope, get_in_scope, scope_for_user, scoped, scopes_for_user
from tenants.idempotency import (
    IdempotencyKeyInvalid,
    WriteAttempt,
    idempotency_claim,
    idempotency_complete,
    idempotency_outcome_unknown,
    idempotency_release,
)
from tenants.tokens import scope_for_token

FINAL = frozenset({
    "get_queryset", "get_object", "initial", "dispatch", "get_authenticators", "get_permissions",
    "perform_authentication", "check_object_permissions", "get_throttles",
})


def scope_for_request(request) -> Scope:
    """The scope of an authenticated request: the token's, or the session user's chosen workspace."""
    token = getattr(request.user, "token", None)
    if token is not None:
        return scope_for_token(token)
    provider_slug = request.headers.get("X-Provider")
    if provider_slug:
        return scope_for_user(request.user, provider_slug=provider_slug,
                              customer_slug=request.headers.get("X-Customer") or None)
    scopes = scopes_for_user(request.user)
    if len(scopes) == 1:
        return scopes[0]
    if not scopes:
        raise Http404("Not found")
    raise WorkspaceRequired()


class ScopedViewSet(viewsets.GenericViewSet):
    """Subclasses set `model`, `ordering`, `serializer_class` and implement `scoped_queryset()`."""

    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [PerCallerRateThrottle]
    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend]
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"
    model: ClassVar[type[Model]]
    ordering: ClassVar[tuple[str, ...]] = ("-id",)
    scope: Scope

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden = FINAL & set(vars(cls))
        if overridden:
            raise TypeError(f"{cls.__name__} may not override {sorted(overridden)}: the scope is resolved in "
                            "ScopedViewSet only. Implement scoped_queryset() instead.")
        if "model" in vars(cls):
            cls.queryset = cls.model._default_manager.none()  # for schema introspection only; never served

    # -------------------------------------------------------------- final: the scope cannot be bypassed

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        self.scope = scope_for_request(request)

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.model._default_manager.none()
        return scoped(self.scoped_queryset(), self.scope)

    def get_object(self) -> Model:
        return get_in_scope(self.get_queryset(), self.scope, pk=self.kwargs[self.lookup_url_kwarg])

    # -------------------------------------------------------------- for subclasses

    def scoped_queryset(self) -> QuerySet:
        """The rows this view serves, from a selector given `self.scope`; the base scopes it again."""
        raise NotImplementedError

    def run_idempotent(
        self, request, write: Callable[[WriteAttempt], tuple[int, Any]], *, key_required: bool
    ) -> Response:
        """Run `write(attempt)` at most once per Idempotency-Key; a retry gets the first answer."""
        key = request.headers.get("Idempotency-Key")
        if key is None:
            if key_required:
                raise IdempotencyKeyInvalid(
                    "This call writes to the pool: send an Idempotency-Key header (e.g. a UUID) so that a retry "
                    "after a timeout can never create a second object."
                )
            status_code, body = write(WriteAttempt())
            return Response(body, status=status_code)
        claim = idempotency_claim(scope=self.scope, key=key, method=request.method, path=request.path,
                                  body=request.data)
        if claim.replay is not None:
            status_code, body = claim.replay
            return Response(body, status=status_code, headers={"Idempotent-Replayed": "true"})
        try:
            status_code, body = write(WriteAttempt.for_claim(claim))
        except WhiteBitError as exc:
            if isinstance(exc, AuthFailed):
                idempotency_release(record=claim.record)  # refused at the door: nothing was written
            else:
                idempotency_outcome_unknown(record=claim.record)
            raise
        except (DjangoValidationError, APIException, Http404, PermissionDenied) as exc:
            idempotency_release(record=claim.record)
            raise exc
        except BaseException:
            idempotency_outcome_unknown(record=claim.record)
            raise
        idempotency_complete(record=claim.record, status=status_code, body=body)
        return Response(body, status=status_code)
