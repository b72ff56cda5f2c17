"""The OpenAPI document against the running server (uvicorn + the app), on
SQLite and on PostgreSQL: schemathesis generates valid and invalid requests
from ``/api/v1/openapi.json`` and sends them with a kiosk token, a staff token
and no token.  Its conformance checks are on: no 5xx, every status documented,
every answer matching its schema and content type, valid requests accepted,
invalid ones refused.  Zero failures."""
from __future__ import annotations

import json
import os
from typing import Any, Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config._checks import PositiveDataAcceptanceConfig
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               positive_data_acceptance,
                                               response_headers_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from tests.conftest import LiveServer, module_live_server

pytestmark = pytest.mark.slow

# Routes that stream forever are exercised by test_events.py instead.
SKIP = {"/api/v1/events"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, positive_data_acceptance,
          negative_data_rejection]
# Per operation, role and mode: bounded CI time; MOTCUA_FUZZ_EXAMPLES=100 for a deeper run.
EXAMPLES = int(os.environ.get("MOTCUA_FUZZ_EXAMPLES", "12"))
# Schema-valid requests may still name what this office does not have: a
# rating level it has not configured, a ticket not found (422 and 404 are
# documented); 400 stays "malformed" and fails the acceptance check.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.postgres)])
def fuzz_server(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    for server in module_live_server(request.param, folder):
        # Sign in before fuzzing: the fuzzer itself trips the sign-in rate limit.
        server.fuzz_tokens = {"kiosk": server.token("kiosk"),  # type: ignore[attr-defined]
                              "staff": server.staff_token(1), "none": None}
        yield server

@pytest.mark.parametrize("role", ["none", "kiosk", "staff"])
def test_the_server_matches_its_openapi_document(fuzz_server: LiveServer, role: str):
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/api/v1/openapi.json")
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=ACCEPTED)
    token = fuzz_server.fuzz_tokens[role]  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    session = requests.Session()
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path in SKIP:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(op.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                response = case.call(session=session, headers=headers, timeout=15)
                if response.status_code >= 400:
                    error = json.loads(response.text).get("error", {})
                    if not (error.get("code") and error.get("message")):
                        failures.append(f"{case.method} {case.path}: {response.text[:200]}")
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except (Exception, BaseExceptionGroup) as exc:  # reported below
                    failures.append(f"{role} {mode.value} {case.method} {case.formatted_path}"
                                    f" -> {response.status_code}: {str(exc)[:600]}")

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to make invalid (no input)
            tested += 1
    assert tested >= 30
    unique = sorted(set(failures))
    assert not unique, f"{len(unique)} failures:\n" + "\n\n".join(unique[:40])
