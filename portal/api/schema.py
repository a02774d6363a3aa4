"""The schema documents every answer an operation can give, errors included, in the one error format."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="invalid_request, authentication_error, permission_error, not_found, "
                                           "idempotency_error, rate_limited, upstream_refused, upstream_unavailable, "
                                           "upstream_error")
    code = serializers.CharField()
    message = serializers.CharField(help_text="In words, for people.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="Field → messages, like the portal's forms.")
    retryable = serializers.BooleanField(required=False, help_text="Whether retrying the same request can help.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class ApiAutoSchema(AutoSchema):
    def _error_codes(self) -> list[int]:
        codes = [401, 403, 429]
        method = self.method.upper()
        if "{" in self.path:
            codes.append(404)
        if method == "GET" and self._is_list_view():
            codes.append(400)  # bad filter or cursor
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += [400, 404, 409, 422, 502, 503]
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response" or not self.path.startswith("/api/v1/"):
            return responses
        for code in self._error_codes():
            responses.setdefault(str(code), self._get_response_for_code(ErrorSerializer, str(code),
                                                                        direction=direction))
        return responses
