"""Schemathesis drives the API from its own OpenAPI schema, in process (WSGI), against real Postgres and the
sandbox pool: no server errors, every answer (errors too) matches the schema, authentication is enforced and data
the schema forbids is rejected."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from portal.wsgi import application
from tests.api.conftest import token_make

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          ignored_auth, negative_data_rejection]


@pytest.fixture
def fuzz_token(pool_provider, settings):
    """The sandbox-backed provider's token. Raw WSGI calls would close the test's database connection at the end
    of each request (Django's test client unhooks that too), so the hook is off for the test."""
    settings.API_THROTTLE_RATE = "1000000/min"
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield token_make(pool_provider.provider, scopes="read,write,billing", name="fuzz")
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])
def test_api_conforms_to_its_schema(case, fuzz_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS)
