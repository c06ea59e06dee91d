"""The domain layer stays pure (DESIGN.md section 5): no I/O, no SQLAlchemy, no FastAPI.

How: the AST of every module under ``src/socialcredit/domain`` is walked. Every ``import`` and
``from ... import`` (relative ones resolved) must name a module on the allow-list of pure standard
library modules or ``socialcredit.domain`` itself; calls to ``open``, ``print``, ``input``,
``exec``, ``eval``, ``compile``, ``__import__`` and ``breakpoint`` are I/O or dynamic imports and
are refused. The checker is itself tested on small bad and good snippets, so that it cannot pass by
finding nothing, and a fresh interpreter importing ``socialcredit.domain`` must not load any
adapter library or any other layer of the project.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
DOMAIN = SRC / "socialcredit" / "domain"

ALLOWED = frozenset(
    {
        "__future__",
        "re",
        "json",
        "hashlib",
        "datetime",
        "calendar",
        "dataclasses",
        "typing",
        "collections.abc",
        "unicodedata",
        "enum",
        "functools",
        "itertools",
        "math",
        "decimal",
        "zoneinfo",
        "socialcredit.domain",
    }
)
FORBIDDEN_CALLS = frozenset(
    {
        "open",
        "print",
        "input",
        "exec",
        "eval",
        "compile",
        "__import__",
        "breakpoint",
    }
)
# Modules the brief names explicitly; each must be refused by the checker.
KNOWN_IMPURE = (
    "sqlalchemy",
    "fastapi",
    "polars",
    "pyarrow",
    "duckdb",
    "yaml",
    "sqlite3",
    "psycopg",
    "os",
    "pathlib",
    "io",
    "socket",
    "subprocess",
    "requests",
    "httpx",
    "importlib",
    "builtins",
    "socialcredit.store",
    "socialcredit.services",
    "socialcredit.cli",
    "socialcredit",
    "collections",
    "shutil",
    "tempfile",
    "urllib.request",
    "logging",
    "sys",
)


def _allowed(module: str) -> bool:
    return any(module == ok or module.startswith(ok + ".") for ok in ALLOWED)


def _resolve(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join(base + ([module] if module else []))


def problems_in(source: str, package: str = "socialcredit.domain") -> list[str]:
    """Every impure import or call in ``source``, as ``line: what``."""
    problems: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _allowed(alias.name):
                    problems.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node.module, node.level, package)
            if not _allowed(module) and not all(
                _allowed(f"{module}.{alias.name}") for alias in node.names
            ):
                problems.append(
                    f"{node.lineno}: from {module or '.'} import "
                    f"{', '.join(alias.name for alias in node.names)}"
                )
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if name in FORBIDDEN_CALLS:
                problems.append(f"{node.lineno}: call {name}()")
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            problems.append(f"{node.lineno}: uses __builtins__")
    return problems


def _domain_modules() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def _package_of(path: Path) -> str:
    """The package relative imports in ``path`` resolve against (for ``__init__`` too)."""
    return ".".join(path.relative_to(SRC).parent.parts)


# --- the real domain --------------------------------------------------------------------------


def test_the_walk_finds_the_domain_modules() -> None:
    names = {path.stem for path in _domain_modules()}
    expected = {
        "__init__",
        "ids",
        "durations",
        "catalogue",
        "protected",
        "scoring",
        "policy",
        "reasons",
        "errors",
        "invariant",
    }
    assert expected <= names, expected - names


@pytest.mark.parametrize("path", _domain_modules(), ids=lambda p: p.name)
def test_domain_module_is_pure(path: Path) -> None:
    problems = problems_in(path.read_text(encoding="utf-8"), _package_of(path))
    assert problems == [], f"{path.relative_to(SRC)} is not pure: {problems}"


def test_importing_the_domain_loads_no_adapter_or_other_layer() -> None:
    script = (
        "import json, sys\nimport socialcredit.domain\nprint(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": ""},
    )
    loaded = json.loads(result.stdout)
    outside = [
        name
        for name in loaded
        if name.split(".")[0]
        in {
            "sqlalchemy",
            "fastapi",
            "polars",
            "pyarrow",
            "duckdb",
            "yaml",
            "sqlite3",
            "_sqlite3",
            "psycopg",
            "socket",
            "requests",
            "httpx",
            "uvicorn",
            "starlette",
            "typer",
            "rich",
            "jinja2",
            "weasyprint",
            "matplotlib",
            "numpy",
            "alembic",
        }
        or (name.startswith("socialcredit.") and not name.startswith("socialcredit.domain"))
    ]
    assert outside == []
    assert "socialcredit.domain.scoring" in loaded  # the import really happened


# --- the checker itself -----------------------------------------------------------------------


@pytest.mark.parametrize("module", KNOWN_IMPURE)
def test_checker_refuses_impure_import(module: str) -> None:
    assert problems_in(f"import {module}\n") == [f"1: import {module}"]
    assert problems_in(f"from {module} import thing\n")


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy.orm import Session\n",
        "import os.path\n",
        "from collections import deque\n",
        "from .. import store\n",
        "from ..services import imports\n",
        "from ...other import x\n",
        "import json, sqlite3\n",
        "def f():\n    import yaml\n",
        "if TYPE_CHECKING:\n    from fastapi import FastAPI\n",
        "with open('catalogue.yaml') as f:\n    pass\n",
        "data = open('x').read()\n",
        "print('hello')\n",
        "value = input()\n",
        "__import__('os')\n",
        "eval('1')\n",
        "exec('x = 1')\n",
        "__builtins__['open']('x')\n",
    ],
)
def test_checker_refuses_io_and_dynamic_imports(source: str) -> None:
    assert problems_in(source), source


@pytest.mark.parametrize(
    "source",
    [
        "import re\nimport json\nimport hashlib\n",
        "from datetime import date, timedelta\n",
        "from collections.abc import Mapping, Sequence\n",
        "from collections import abc\n",
        "from dataclasses import dataclass, field\n",
        "from typing import Any, Literal\n",
        "import unicodedata, enum, functools, itertools, math, decimal, calendar\n",
        "from zoneinfo import ZoneInfo\n",
        "from __future__ import annotations\n",
        "from socialcredit.domain.ids import make_person_id\n",
        "from . import ids\n",
        "from .scoring import Entry\n",
        "catalogue.document.get('x')\n",
        "self.open_count = 1\n",
    ],
)
def test_checker_accepts_pure_code(source: str) -> None:
    assert problems_in(source) == []


def test_relative_imports_resolve_against_the_package() -> None:
    assert _resolve("ids", 1, "socialcredit.domain") == "socialcredit.domain.ids"
    assert _resolve(None, 1, "socialcredit.domain") == "socialcredit.domain"
    assert _resolve("store", 2, "socialcredit.domain") == "socialcredit.store"
    assert _package_of(DOMAIN / "ids.py") == "socialcredit.domain"
    assert _package_of(DOMAIN / "__init__.py") == "socialcredit.domain"
