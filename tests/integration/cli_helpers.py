"""Running ``socialcredit`` in-process and checking the contract's output shapes.

``socialcredit.cli.main`` raises ``SystemExit`` with the exit code; pytest's ``capsys`` holds
what it printed. ``Run.document`` insists that stdout is exactly one JSON document, and
``Run.error_line`` that stderr is one plain line without a traceback.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from socialcredit.cli import main

__all__ = ["Run", "refused", "runner"]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def document(self) -> Any:
        """stdout as exactly one JSON document (fails if there is anything else)."""
        assert self.out.endswith("\n") and self.out.count("\n") == 1, self.out
        return json.loads(self.out)

    def error_line(self) -> str:
        """The one plain line an error prints on stderr."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert "Traceback" not in self.err and "\x1b" not in self.err
        return lines[0]


def runner(capsys: pytest.CaptureFixture[str], db_url: str) -> Callable[..., Run]:
    """``run(*args)`` runs ``socialcredit --db URL *args``; ``db=False`` leaves --db out."""

    def run(*args: object, db: bool = True) -> Run:
        argv: Sequence[str] = [str(arg) for arg in args]
        if db:
            argv = ["--db", db_url, *argv]
        with pytest.raises(SystemExit) as done:
            main(list(argv))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return Run(int(done.value.code or 0), captured.out, captured.err)

    return run


def refused(run: Run, exit_code: int, code: str) -> str:
    """Check the contract's error shape under --json; returns the stderr line."""
    assert run.code == exit_code, run
    document = run.document
    assert set(document) == {"error"}
    assert {"code", "message"} <= set(document["error"])
    assert document["error"]["code"] == code, document
    line = run.error_line()
    assert document["error"]["message"] in line
    return line
