"""The one error shape: ``{"error": {"code", "message", "details"}}`` and nothing else."""

from typing import Any

__all__ = ["assert_error"]

TRACEBACK_MARKERS = ("Traceback", 'File "', "line ", ".py")


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    document = response.json()
    assert set(document) == {"error"}, document
    error = document["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["details"], dict), error
    if code is not None:
        assert error["code"] == code, error
    for marker in TRACEBACK_MARKERS:
        assert marker not in response.text, response.text
    return error
