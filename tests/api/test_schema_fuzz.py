"""Schemathesis drives the API from its own OpenAPI schema, in process (WSGI), against real Postgres and the
sandbox pool: no server errors, every answer (errors too) matches the schema, authentication is enforced and data
the schema forbids is rejected."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
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


# One test item per operation, each with its own id: schemathesis' own parametrization gives every item the same
# node id, which xdist collapses into one (so under `make test` only one operation ran).
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.django_db
@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_api_conforms_to_its_schema(operation, fuzz_token):
    @given(case=operation.as_strategy())
    @settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    def run(case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS)

    run()


def test_every_operation_is_its_own_test_item():
    """The list comes from the served schema (a new endpoint is fuzzed without editing this file), and the ids are
    unique, so xdist runs every operation instead of collapsing them into one."""
    assert len({op.label for op in OPERATIONS}) == len(OPERATIONS) > 0
