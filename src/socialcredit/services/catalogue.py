"""Use cases around the catalogue: read and validate a file, load a version, set up a registry."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from socialcredit.domain.catalogue import Catalogue, check_successor, parse_catalogue
from socialcredit.domain.errors import CatalogueInvalidError, UnreadableInputError
from socialcredit.services.registry import Registry
from socialcredit.store import migrate, repository

__all__ = [
    "LoadResult",
    "bundled_catalogue_path",
    "init_registry",
    "load_catalogue",
    "read_catalogue_file",
]

MAX_CATALOGUE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LoadResult:
    version: str
    effective_from: str
    status: str  # "loaded" or "unchanged"
    rules: int
    agencies: int
    policies: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "effective_from": self.effective_from,
            "status": self.status,
            "rules": self.rules,
            "agencies": self.agencies,
            "policies": self.policies,
        }


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            line = key_node.start_mark.line + 1
            raise CatalogueInvalidError([f"line {line}: key {key!r} appears twice"])
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def bundled_catalogue_path() -> Path:
    """The reference Rongcheng catalogue shipped with the package (or the source tree)."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (
        package / "_catalogues" / "rongcheng.yaml",
        package.parents[1] / "catalogues" / "rongcheng.yaml",
    ):
        if candidate.is_file():
            return candidate
    raise UnreadableInputError("the bundled catalogue rongcheng.yaml is missing from the install")


def read_catalogue_file(path: Path) -> Catalogue:
    """Read and validate a catalogue YAML file; every problem names its place."""
    if not path.is_file():
        raise UnreadableInputError(f"{path}: no such file")
    if path.stat().st_size > MAX_CATALOGUE_BYTES:
        raise UnreadableInputError(f"{path}: larger than {MAX_CATALOGUE_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableInputError(f"{path}: not valid UTF-8") from None
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except CatalogueInvalidError as error:
        raise CatalogueInvalidError(error.problems, source=str(path)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise CatalogueInvalidError(
            [f"{where}not valid YAML: {problem}"], source=str(path)
        ) from None
    return parse_catalogue(document, source=str(path))


def load_catalogue(registry: Registry, path: Path) -> LoadResult:
    """Validate ``path`` and load it as a new version (an identical reload changes nothing)."""
    catalogue = read_catalogue_file(path)
    loaded = registry.catalogues()
    result = LoadResult(
        catalogue.version,
        catalogue.effective_from.isoformat(),
        "unchanged",
        len(catalogue.rules),
        len(catalogue.agencies),
        len(catalogue.policies),
    )
    for existing in loaded:
        if existing.version == catalogue.version and existing.digest() == catalogue.digest():
            return result
    problems = check_successor(loaded, catalogue)
    if problems:
        raise CatalogueInvalidError(problems, source=str(path))
    row = {
        "version": catalogue.version,
        "effective_from": catalogue.effective_from,
        "base_score": catalogue.base_score,
        "document": catalogue.canonical_json(),
        "digest": catalogue.digest(),
        "recorded_at": registry.clock.now(),
    }
    with registry.database.write() as connection:
        repository.insert_catalogue_version(connection, row)
    registry.forget_catalogues()
    return LoadResult(**{**result.as_dict(), "status": "loaded"})


def init_registry(registry: Registry, catalogue_paths: list[Path]) -> list[LoadResult]:
    """Create or migrate the schema, then load catalogues.

    Without paths, the bundled reference catalogue is loaded into a registry that holds no
    catalogue yet; a registry that already has catalogues is only migrated.
    """
    migrate.upgrade(registry.database)
    registry.forget_catalogues()
    if not catalogue_paths:
        if registry.catalogues():
            return []
        catalogue_paths = [bundled_catalogue_path()]
    catalogues = sorted(
        ((read_catalogue_file(p), p) for p in catalogue_paths),
        key=lambda pair: pair[0].effective_from,
    )
    return [load_catalogue(registry, path) for _catalogue, path in catalogues]


def catalogue_summary(catalogue: Catalogue) -> dict[str, Any]:
    return json.loads(catalogue.canonical_json())  # type: ignore[no-any-return]
