"""Reading import files (CSV, JSON Lines, Parquet) into one all-text table with row numbers.

Every reader returns a ``RawTable``: a Polars frame with a 1-based ``row`` column, one String
column per field of the file, and a ``malformed`` column that holds a message for rows that
could not be split into the header's fields (``None`` otherwise). Those rows are rejected by
the import with ``malformed-row``, so that nothing submitted is silently lost.

A file is read whole before anything is imported (bounded by ``max_file_bytes``): a file that
turns out to be unreadable half-way is refused as a whole (exit 2) instead of half-imported.

Fast paths use pyarrow / Polars; when they meet a malformed row they step aside for an exact
Python reader, which numbers rows precisely. Blank lines are not rows.
"""

import codecs
import csv
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from socialcredit.domain.errors import UnreadableInputError

__all__ = ["FORMATS", "RawTable", "file_format", "read_table"]

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_CHUNK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawTable:
    columns: list[str]  # the file's own fields, in file order
    frame: pl.DataFrame  # row, *columns (String), malformed (String or null)
    sha256: str

    @property
    def height(self) -> int:
        return self.frame.height


def file_format(path: Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the extension; refuses anything else."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UnreadableInputError(
            f"{path}: not a CSV/JSONL/Parquet file (extension {path.suffix or 'none'}); "
            "use .csv, .jsonl or .parquet"
        )
    return kind


def _check_file(path: Path, max_file_bytes: int) -> int:
    if not path.exists():
        raise UnreadableInputError(f"{path}: no such file")
    if not path.is_file():
        raise UnreadableInputError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size > max_file_bytes:
        raise UnreadableInputError(
            f"{path}: {size} bytes is more than the limit of {max_file_bytes} (max_file_bytes)"
        )
    return size


def _scan_text(path: Path, encoding: str) -> str:
    """Check the whole file decodes, naming the line of the first bad byte; return its sha256."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
            try:
                line += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as error:
                line += chunk[: error.start].count(b"\n")
                hint = " (use --encoding gb18030 for GB 18030 files)" if encoding == "utf-8" else ""
                raise UnreadableInputError(
                    f"{path}: line {line}: not valid {encoding}{hint}"
                ) from None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise UnreadableInputError(f"{path}: ends inside a {encoding} character") from None
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _normalise_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise UnreadableInputError(f"--encoding {encoding!r} is not a known encoding") from None
    return "utf-8" if name in ("utf-8", "utf-8-sig") else name


def _header(path: Path, encoding: str) -> list[str]:
    with path.open("r", encoding=encoding, newline="") as handle:
        first = handle.readline()
    first = first.lstrip("\ufeff")
    if not first.strip():
        raise UnreadableInputError(f"{path}: empty file, expected a header row")
    try:
        names = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        raise UnreadableInputError(f"{path}: line 1: cannot read the header row") from None
    names = [name.strip() for name in names]
    _check_names(path, names)
    return names


def _check_names(path: Path, names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if not name:
            raise UnreadableInputError(f"{path}: the header has an empty column name")
        if name in seen:
            raise UnreadableInputError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)


def _finish(
    columns: list[str],
    data: dict[str, list[Any]] | pl.DataFrame,
    malformed: list[str | None] | None,
    sha256: str,
) -> RawTable:
    frame = pl.DataFrame(data, schema={name: pl.String for name in columns})
    height = frame.height
    frame = frame.with_columns(
        pl.int_range(1, height + 1, dtype=pl.Int64).alias("row"),
        pl.Series(
            "malformed", malformed if malformed is not None else [None] * height, dtype=pl.String
        ),
    )
    return RawTable(columns, frame.select("row", *columns, "malformed"), sha256)


def _read_csv_fast(path: Path, columns: list[str], encoding: str) -> pa.Table | None:
    """pyarrow's multi-threaded reader; ``None`` if it meets a malformed row."""
    invalid: list[int] = []

    def on_invalid(_row: Any) -> str:
        invalid.append(1)
        return "skip"

    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(
                encoding=encoding, column_names=columns, skip_rows=1, block_size=1 << 24
            ),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in columns},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    return None if invalid else table


def _read_csv_exact(
    path: Path, columns: list[str], encoding: str
) -> tuple[dict[str, list[Any]], list[str | None]]:
    """Python's csv module, row by row: slow but exact about which row is malformed."""
    data: dict[str, list[Any]] = {name: [] for name in columns}
    malformed: list[str | None] = []
    width = len(columns)
    with path.open("r", encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            next(reader)
            for fields in reader:
                if not fields or fields == [""]:
                    continue  # a blank line is not a row
                message = None
                if len(fields) != width:
                    message = f"row has {len(fields)} fields, the header has {width}"
                padded = (fields + [None] * width)[:width]
                for name, value in zip(columns, padded, strict=True):
                    data[name].append(value)
                malformed.append(message)
        except csv.Error as error:
            raise UnreadableInputError(
                f"{path}: line {reader.line_num}: {error} (a quoted field is never closed?)"
            ) from None
    return data, malformed


def _read_csv(path: Path, encoding: str) -> RawTable:
    sha256 = _scan_text(path, encoding)
    columns = _header(path, encoding)
    table = _read_csv_fast(path, columns, encoding)
    if table is not None:
        return _finish(columns, pl.from_arrow(table), None, sha256)  # type: ignore[arg-type]
    data, malformed = _read_csv_exact(path, columns, encoding)
    return _finish(columns, data, malformed, sha256)


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(type(value).__name__)


def _read_jsonl_exact(
    path: Path, encoding: str
) -> tuple[list[str], dict[str, list[Any]], list[str | None]]:
    records: list[dict[str, Any] | None] = []
    malformed: list[str | None] = []
    with path.open("r", encoding=encoding) as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                records.append(None)
                malformed.append(f"not valid JSON: {error.msg} at column {error.colno}")
                continue
            if not isinstance(record, dict):
                records.append(None)
                malformed.append(f"a record must be a JSON object, got {type(record).__name__}")
                continue
            records.append(record)
            malformed.append(None)
    columns: list[str] = []
    for record in records:
        for key in record or {}:
            if key not in columns:
                columns.append(key)
    data: dict[str, list[Any]] = {name: [] for name in columns}
    for index, record in enumerate(records):
        for name in columns:
            try:
                data[name].append(_json_text((record or {}).get(name)))
            except TypeError as error:
                data[name].append(None)
                malformed[index] = malformed[index] or f"field {name} is a JSON {error}, not text"
    return columns, data, malformed


def _read_jsonl(path: Path, encoding: str) -> RawTable:
    sha256 = _scan_text(path, encoding)
    if encoding == "utf-8":
        try:
            frame = pl.read_ndjson(path, infer_schema_length=None)
            if all(
                dtype in (pl.String, pl.Int64, pl.Float64, pl.Boolean, pl.Null)
                for dtype in frame.dtypes
            ):
                columns = frame.columns
                _check_names(path, columns)
                frame = frame.with_columns(pl.all().cast(pl.String))
                return _finish(columns, frame, None, sha256)
        except (pl.exceptions.ComputeError, pl.exceptions.PolarsError):
            pass
    columns, data, malformed = _read_jsonl_exact(path, encoding)
    _check_names(path, columns)
    return _finish(columns, data, malformed, sha256)


def _read_parquet(path: Path) -> RawTable:
    sha256 = _sha256(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise UnreadableInputError(f"{path}: not a readable Parquet file ({error})") from None
    columns = list(table.column_names)
    _check_names(path, columns)
    arrays = {}
    for name in columns:
        column = table.column(name)
        try:
            arrays[name] = column.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise UnreadableInputError(
                f"{path}: column {name!r} has type {column.type}, which cannot be read as text"
            ) from None
    frame = pl.from_arrow(pa.table(arrays))
    return _finish(columns, frame, None, sha256)  # type: ignore[arg-type]


def read_table(
    path: Path, *, encoding: str = "utf-8", max_file_bytes: int, max_rows: int
) -> RawTable:
    """Read ``path`` whole (CSV, JSON Lines or Parquet by extension) as text columns."""
    kind = file_format(path)
    _check_file(path, max_file_bytes)
    encoding = _normalise_encoding(encoding)
    try:
        if kind == "csv":
            raw = _read_csv(path, encoding)
        elif kind == "jsonl":
            raw = _read_jsonl(path, encoding)
        else:
            raw = _read_parquet(path)
    except OSError as error:
        raise UnreadableInputError(f"{path}: cannot read: {error.strerror or error}") from None
    if raw.height > max_rows:
        raise UnreadableInputError(
            f"{path}: {raw.height} rows is more than the limit of {max_rows} (max_rows_per_file)"
        )
    return raw
