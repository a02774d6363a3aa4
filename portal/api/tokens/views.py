from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.response import Response

from portal.api.base import ScopedViewSet
from portal.api.tokens.serializers import ApiTokenCreatedSerializer, ApiTokenCreateSerializer, ApiTokenSerializer
from tenants.models import ApiToken
from tenants.tokens import api_token_create, api_token_list, api_token_revoke


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """API tokens, managed by people signed in to the portal (owners and admins; customer admins for their own
    customer). A token cannot see or mint tokens: a leaked token must not be able to grow its own powers."""

    model = ApiToken
    ordering = ("-id",)
    serializer_class = ApiTokenSerializer

    def scoped_queryset(self):
        if self.scope.token_id is not None:
            return api_token_list(scope=self.scope).none()  # invisible to tokens: 404 for any id
        return api_token_list(scope=self.scope)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        if self.scope.token_id is not None:
            raise PermissionDenied("API tokens are managed in the portal, not with a token.")
        data = ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_token_create(scope=self.scope, **data.validated_data)
        body = ApiTokenCreatedSerializer(issued.token).data | {"token": issued.plaintext}
        return Response(body, status=201, headers={"Cache-Control": "no-store"})

    @extend_schema(request=None, responses={200: ApiTokenSerializer})
    def destroy(self, request, *args, **kwargs):
        token = self.get_object()
        return Response(ApiTokenSerializer(api_token_revoke(scope=self.scope, token_id=token.pk)).data)
