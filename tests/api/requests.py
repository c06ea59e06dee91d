"""A valid request for every route of the API, so that tests can walk the route table."""

import io
from dataclasses import dataclass, field
from typing import Any

from tests.api.conftest import API, Town
from tests.conftest import ZHANG_JIAN, recent

__all__ = ["REQUESTS", "Call", "call"]


@dataclass(frozen=True)
class Call:
    """How to call one route with a valid request (``{person_id}`` is Zhang Jian, whose
    resident account may read his own record)."""

    json: Any = None
    files: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)


_event_counter = iter(range(1, 1_000_000))


def _events_body() -> dict[str, Any]:
    n = next(_event_counter)
    return {
        "events": [
            {
                "event_id": f"MATRIX-{n}",
                "person_id": ZHANG_JIAN,
                "rule": "TRAFFIC-RED-LIGHT",
                "occurred_on": recent(5),
            }
        ]
    }


def _upload() -> dict[str, Any]:
    n = next(_event_counter)
    text = f"agency,event_id,person_id,rule,occurred_on\ntraffic-police,UP-{n},{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(6)}\n"
    return {"file": ("events.csv", io.BytesIO(text.encode()), "text/csv")}


REQUESTS: dict[tuple[str, str], Any] = {
    ("GET", "/healthz"): lambda: Call(),
    ("GET", f"{API}/openapi.json"): lambda: Call(),
    ("GET", "/docs"): lambda: Call(),
    ("GET", f"{API}/catalogue"): lambda: Call(),
    ("GET", f"{API}/me"): lambda: Call(),
    ("POST", f"{API}/events"): lambda: Call(json=_events_body()),
    ("POST", f"{API}/events/bulk"): lambda: Call(files=_upload()),
    ("GET", f"{API}/people/{{person_id}}"): lambda: Call(),
    ("GET", f"{API}/people/{{person_id}}/statement"): lambda: Call(),
    ("GET", f"{API}/people/{{person_id}}/access-log"): lambda: Call(),
    ("POST", f"{API}/checks"): lambda: Call(
        json={"person_id": ZHANG_JIAN, "policy": "civil-service-promotion", "purpose": "promotion"}
    ),
    ("GET", f"{API}/stats"): lambda: Call(),
    ("GET", f"{API}/keys"): lambda: Call(),
    ("GET", f"{API}/checkpoints"): lambda: Call(),
    ("GET", f"{API}/proofs/consistency"): lambda: Call(params={"first": "1"}),
    ("GET", f"{API}/proofs/inclusion"): lambda: Call(
        params={"agency": "traffic-police", "event_id": "TP-1"}
    ),
    ("POST", f"{API}/statements/verify"): lambda: Call(files={"token": (None, "SCS1.e30.AA")}),
}


def call(
    town: Town,
    method: str,
    path: str,
    role: str | None,
    *,
    person_id: str = ZHANG_JIAN,
    headers: dict[str, str] | None = None,
) -> Any:
    """Send the valid request of a route as ``role`` (``None``: no credentials)."""
    spec: Call = REQUESTS[(method, path)]()
    url = path.replace("{person_id}", person_id)
    all_headers = {**town.auth(role), **(headers or {})}
    return town.client.request(
        method, url, headers=all_headers, json=spec.json, files=spec.files, params=spec.params
    )
