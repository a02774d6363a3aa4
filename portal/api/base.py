"""The one base for every API view: it resolves the caller's scope and cannot be bypassed (PostHog's routing.py).

* Authentication is a bearer token or the portal session (CSRF enforced); a token *is* its scope.
* `get_queryset`/`get_object` are final: they pass whatever the view's `scoped_queryset()` returns through
  `tenants.access.scoped()` again, so a view that forgets the scope still cannot serve another tenant's rows,
  and anything outside the scope is a 404. A subclass that tries to override them fails at import time.
* Writes run through `run_idempotent`, which honours the `Idempotency-Key` header; `create()` is written once here
  (a subclass names its `create_serializer_class` and implements `create_object()`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from portal.api.authentication import BearerTokenAuthentication, SessionAuthentication
from portal.api.exceptions import WorkspaceRequired
from portal.api.pagination import ApiCursorPagination
from portal.api.throttling import PerCallerRateThrottle
from tenants.access import Scope, get_in_scope, scope_for_user, scoped, scopes_for_user
from tenants.idempotency import IdempotencyKeyInvalid, WriteAttempt, idempotent_write
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
        """Run `write(attempt)` at most once per Idempotency-Key (tenants.idempotency.idempotent_write, the pages'
        mechanism too); a retry gets the first answer with `Idempotent-Replayed: true`."""
        key = request.headers.get("Idempotency-Key")
        if key is None:
            if key_required:
                raise IdempotencyKeyInvalid(
                    "This call writes to the pool: send an Idempotency-Key header (e.g. a UUID) so that a retry "
                    "after a timeout can never create a second object."
                )
            status_code, body = write(WriteAttempt())
            return Response(body, status=status_code)
        result = idempotent_write(scope=self.scope, key=key, method=request.method, path=request.path,
                                  body=request.data, write=write, nothing_written=(APIException,))
        headers = {"Idempotent-Replayed": "true"} if result.replayed else None
        return Response(result.body, status=result.status, headers=headers)


class CreateMixin:
    """The one `create()` of the API (mixed into a ScopedViewSet; a mixin, so a router offers POST only where a
    view asks for it): a subclass names `create_serializer_class`, `create_key_required` and `create_object()`."""

    create_serializer_class: ClassVar[type[serializers.Serializer] | None] = None
    create_key_required: ClassVar[bool] = False
    create_read_again: ClassVar[bool] = True

    def create(self, request, *args, **kwargs) -> Response:
        """POST: validate with `create_serializer_class`, call `create_object()` once per Idempotency-Key (required
        where `create_key_required`: the write reaches the pool), answer 201 with `created_body()`."""
        def write(attempt: WriteAttempt) -> tuple[int, Any]:
            data = self.create_serializer_class(data=request.data)
            data.is_valid(raise_exception=True)
            return 201, self.created_body(self.create_object(dict(data.validated_data), attempt))

        return self.run_idempotent(request, write, key_required=self.create_key_required)

    def create_object(self, values: dict[str, Any], attempt: WriteAttempt) -> Model:
        """The service call of `create()`, given the validated values; returns what it made."""
        raise NotImplementedError

    def created_body(self, obj: Model) -> Any:
        """What `create()` answers: the new object as the view serves it (read again through the view's rows where
        `create_read_again`, since the list's selector adds what the serializer shows)."""
        if self.create_read_again:
            obj = self.get_queryset().get(pk=obj.pk)
        return self.serializer_class(obj).data
