"""Writing tables (exports, rejects) as CSV, JSON Lines or Parquet, chosen by extension.

Output is always UTF-8 (CSV without BOM). A writer is opened once and fed batch by batch, so an
import writes its rejects as it goes and memory stays bounded by the batch size.
"""

from pathlib import Path
from types import TracebackType

import polars as pl
import pyarrow.parquet as pq

from socialcredit.domain.errors import UnreadableInputError
from socialcredit.files.readers import file_format

__all__ = ["TableWriter", "write_table"]


class TableWriter:
    """Streams frames with one schema into ``path``; the file exists even with no rows."""

    def __init__(self, path: Path, schema: dict[str, pl.DataType]) -> None:
        self.path = path
        self.kind = file_format(path)
        self.schema = schema
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        if not path.parent.is_dir():
            raise UnreadableInputError(f"{path}: folder {path.parent} does not exist")
        try:
            self._handle = None if self.kind == "parquet" else path.open("wb")
        except OSError as error:
            raise UnreadableInputError(f"{path}: cannot write: {error.strerror}") from None
        if self.kind == "csv":
            self.write(pl.DataFrame(schema=schema), header_only=True)

    def write(self, frame: pl.DataFrame, *, header_only: bool = False) -> None:
        frame = frame.select(list(self.schema)).cast(self.schema)  # type: ignore[arg-type]
        if self.kind == "csv" and self._handle is not None:
            frame.write_csv(self._handle, include_header=header_only)
        elif self.kind == "jsonl" and self._handle is not None:
            if frame.height:
                frame.write_ndjson(self._handle)
        else:
            table = frame.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table)
        if not header_only:
            self.rows += frame.height

    def close(self) -> None:
        if self.kind == "parquet" and self._parquet is None:
            self._parquet = pq.ParquetWriter(
                self.path, pl.DataFrame(schema=self.schema).to_arrow().schema
            )
        if self._parquet is not None:
            self._parquet.close()
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def write_table(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` whole to ``path`` in the format of its extension."""
    with TableWriter(path, dict(frame.schema)) as writer:
        writer.write(frame)
    return path
