"""A valid request for every route of the API, so that tests can walk the route table."""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.api.conftest import API, Town
from tests.api.due_process import contested, fresh_id, grant, next_catalogue, report
from tests.conftest import ZHANG_JIAN, recent

__all__ = ["REQUESTS", "Call", "call"]


@dataclass(frozen=True)
class Call:
    """How to call one route with a valid request (``{person_id}`` is Zhang Jian, whose
    resident account may read his own record).

    ``prepare`` sets up what the request acts on (a fresh entry to contest, say), so that each
    call of a state-changing route succeeds for every role it admits; it must not read anyone's
    record (the read walk counts access-log rows around the call). ``path`` fills the other
    placeholders of the route's path."""

    json: Any = None
    files: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[Town], None] | None = None


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


def _on_entry(prepare: Callable[[Town, str], None], **call: Any) -> Call:
    """A call about a fresh traffic-police entry of Zhang Jian's, set up by ``prepare``."""
    event_id = fresh_id("DP")
    return Call(
        path={"agency": "traffic-police", "event_id": event_id},
        prepare=lambda town: prepare(town, event_id),
        **call,
    )


def _open_contest() -> Call:
    event_id = fresh_id("DP")
    body = {"agency": "traffic-police", "event_id": event_id, "grounds": "I was abroad"}
    return Call(json=body, prepare=lambda town: report(town, event_id))


HOUSING = {"organisation": "Weihai Housing Office", "purpose": "tenancy"}
YAML = {"content-type": "application/yaml"}

# The routes of issue 4 (docs/due-process.md), under /api/v1.
_DUE_PROCESS: dict[tuple[str, str], Any] = {
    ("POST", "/contests"): _open_contest,
    ("GET", "/contests"): lambda: Call(prepare=lambda town: contested(town, fresh_id("DP"))),
    ("GET", "/contests/{agency}/{event_id}"): lambda: _on_entry(contested),
    ("POST", "/contests/{agency}/{event_id}/answer"): lambda: _on_entry(
        contested, json={"answer": "verified", "reason": "the camera photo"}
    ),
    ("POST", "/contests/{agency}/{event_id}/decision"): lambda: _on_entry(
        contested, json={"decision": "overturned", "reason": "no photo"}
    ),
    ("POST", "/contests/sweep"): lambda: Call(),
    ("POST", "/entries/{agency}/{event_id}/withdraw"): lambda: _on_entry(
        report, json={"reason": "wrong plate read"}
    ),
    ("GET", "/people/{person_id}/consents"): lambda: Call(),
    ("POST", "/people/{person_id}/consents"): lambda: Call(json=HOUSING),
    ("POST", "/people/{person_id}/consents/revoke"): lambda: Call(
        json=HOUSING, prepare=lambda town: grant(town, **HOUSING)
    ),
    ("GET", "/people/{person_id}/notices"): lambda: Call(),
    ("GET", "/audit/access"): lambda: Call(params={"person": ZHANG_JIAN}),
    ("POST", "/catalogue/diff"): lambda: Call(content=next_catalogue(), headers=YAML),
    ("POST", "/catalogue"): lambda: Call(content=next_catalogue(), headers=YAML),
}

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
    **{(method, f"{API}{path}"): factory for (method, path), factory in _DUE_PROCESS.items()},
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
    if spec.prepare is not None:
        spec.prepare(town)
    url = path.replace("{person_id}", person_id)
    for name, value in spec.path.items():
        url = url.replace(f"{{{name}}}", value)
    all_headers = {**town.auth(role), **spec.headers, **(headers or {})}
    return town.client.request(
        method,
        url,
        headers=all_headers,
        json=spec.json,
        files=spec.files,
        params=spec.params,
        content=spec.content,
    )
