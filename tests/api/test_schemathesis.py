"""Property tests against the live OpenAPI document: no 500s, every answer matches the schema.

Schemathesis reads ``/api/v1/openapi.json`` from the running application (in process, over
ASGI) and generates requests for every operation, valid and invalid, authenticated as a role
the operation admits. Bounded: a few examples per operation, no time limit.
"""

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from tests.api.conftest import ROLES, Town

from socialcredit.api.permissions import ROUTE_ACCESS

MAX_EXAMPLES = 15


def role_for(method: str, path: str) -> str | None:
    access = ROUTE_ACCESS[(method.upper(), path)]
    if access.public:
        return None
    # Prefer a role that may act on anyone: a resident is refused other IDs by design.
    return next((r for r in ROLES if r in access.roles), None) or next(iter(access.self_roles))


def _document() -> dict:
    """The application's OpenAPI document, built without a database (nothing is read to
    describe the API). The test checks that the live server serves exactly this document."""
    from socialcredit.api import create_app
    from socialcredit.services.registry import Registry
    from socialcredit.settings import load_settings

    registry = Registry.open("sqlite:///:memory:", load_settings({}))
    return create_app(registry).openapi()


DOCUMENT = _document()
# Loaded at import so that pytest can list one test per operation (schemathesis's lazy
# fixture loader does not work with this pytest); requests go to the live app per test.
# A request the schema allows may still be refused by the registry's own rules, which OpenAPI
# cannot state: a resident ID with a wrong check character (400), a verifier's grant (403),
# a file whose name or contents are not an events file (415, 422), a date before every
# catalogue version (422). Those answers are expected of valid data too; 5xx never is.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", 400, 401, 403, 404, 409, 413, 415, 422, 429]
            }
        }
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@pytest.fixture
def fuzz_town(make_town: Callable[..., Town]) -> Town:
    town = make_town(verifier_checks_per_minute=1_000_000)
    assert town.get("/api/v1/openapi.json").json() == DOCUMENT
    return town


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_against_its_schema(case: schemathesis.Case, fuzz_town: Town) -> None:
    role = role_for(case.operation.method, case.operation.path)
    case.operation.schema.app = fuzz_town.client.app  # this test's live application
    case.call_and_validate(app=fuzz_town.client.app, headers=fuzz_town.auth(role))
