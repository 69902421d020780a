"""Reading a CSV file as a stream: never the whole file in memory, every row with its line.

The file is read one physical line at a time and handed to ``csv.reader``, so each row knows
the physical line it starts on (the header is line 1; a quoted cell may span lines) and the
byte offset where it ends (the progress bar). A first pass (``file_scan``) checks the encoding
of every line and hashes the file before anything is written, so a Latin-1 byte on line
90,000 stops the import before line 1 is stored, with the line named.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from leadpact.common.errors import ApplicationError

_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}
_CANDIDATE_DELIMITERS = (",", ";", "\t", "|")


class ImportFileError(ApplicationError):
    """The file cannot be imported as it is; the message says where and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="bad_file")


@dataclass(frozen=True)
class FileScan:
    size: int
    sha256: str
    lines: int


@dataclass(frozen=True)
class CsvRow:
    line: int  # the physical line the row starts on; the header is line 1
    cells: list[str]
    end: int  # byte offset just after the row
    error: str = ""  # a problem the CSV parser found (a cell too large, a NUL byte)


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


def _suggest_encoding(raw: bytes) -> str:
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _decode_error(line_no: int, raw: bytes, encoding: str, exc: UnicodeDecodeError) -> str:
    suggestion = _suggest_encoding(raw)
    return (
        f"line {line_no} is not valid {encoding}: byte 0x{raw[exc.start]:02x} at character "
        f"{exc.start + 1}. The file looks like {suggestion} (Latin-1/Windows) text: import it "
        f'with --encoding {suggestion} (or "encoding": "{suggestion}" in the mapping)'
    )


def file_scan(path: Path, encoding: str) -> FileScan:
    """Hash the file and check that every line decodes; raises ``ImportFileError`` naming the line.

    Also refuses an empty file and one with a header but no data rows.
    """
    digest = hashlib.sha256()
    size = 0
    lines = 0
    data_lines = 0
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        first = handle.read(4)
        for bom, name in _BOMS.items():
            if first.startswith(bom) and not first.startswith(codecs.BOM_UTF8):
                raise ImportFileError(
                    f"the file is {name} text; save it as UTF-8 CSV and import that file"
                )
        handle.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        for raw in handle:
            lines += 1
            size += len(raw)
            digest.update(raw)
            try:
                text = decoder.decode(raw)
            except UnicodeDecodeError as exc:
                raise ImportFileError(_decode_error(lines, raw, encoding, exc)) from None
            if lines > 1 and text.strip():
                data_lines += 1
            elif lines == 1 and not text.lstrip("\ufeff").strip():
                raise ImportFileError("the file is empty: its first line holds no column names")
    if lines == 0:
        raise ImportFileError("the file is empty")
    if data_lines == 0:
        raise ImportFileError("the file has a header row but no data rows")
    return FileScan(size=size, sha256=digest.hexdigest(), lines=lines)


def detect_delimiter(header_line: str) -> str:
    """The candidate delimiter that occurs most often in the header; ``,`` when none does."""
    counts = {d: header_line.count(d) for d in _CANDIDATE_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class CsvFile:
    """A CSV file opened for streaming: ``headers`` at once, then ``rows()`` one at a time."""

    def __init__(self, path: Path, *, encoding: str, delimiter: str = "") -> None:
        self.path = path
        self.encoding = encoding
        self._decode = codecs.getincrementaldecoder(encoding)("strict").decode
        self._strip_bom = _is_utf8(encoding)
        self._handle = path.open("rb")
        self.position = 0
        self._line_iter = self._lines()
        first = next(self._line_iter, "")
        self.delimiter = delimiter or detect_delimiter(first)
        self._reader = csv.reader(self._chain(first), delimiter=self.delimiter)
        try:
            self.headers = [h.strip() for h in next(self._reader)]
        except (StopIteration, csv.Error) as exc:
            self.close()
            raise ImportFileError(f"the header row cannot be read: {exc}") from None
        self._last_line = self._reader.line_num
        self._check_headers()

    def _lines(self) -> Iterator[str]:
        first = True
        for raw in self._handle:
            self.position += len(raw)
            try:
                text = self._decode(raw)
            except UnicodeDecodeError as exc:
                line = self._reader.line_num + 1 if hasattr(self, "_reader") else 1
                raise ImportFileError(_decode_error(line, raw, self.encoding, exc)) from None
            if first:
                first = False
                if self._strip_bom:
                    text = text.lstrip("\ufeff")
            yield text

    def _chain(self, first: str) -> Iterator[str]:
        if first:
            yield first
        yield from self._line_iter

    def _check_headers(self) -> None:
        seen: dict[str, int] = {}
        for index, name in enumerate(self.headers, start=1):
            if not name:
                continue
            if name in seen:
                raise ImportFileError(
                    f"column {name!r} appears twice in the header (columns {seen[name]} and "
                    f"{index}); rename one of them"
                )
            seen[name] = index

    def rows(self) -> Iterator[CsvRow]:
        """Every data row; blank lines are skipped. A row the parser chokes on comes back with
        ``error`` set, and reading goes on with the next line."""
        reader = self._reader
        while True:
            start = self._last_line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self._last_line = reader.line_num
                yield CsvRow(start, [], self.position, error=_csv_error(exc))
                continue
            self._last_line = reader.line_num
            if not cells or not any(c.strip() for c in cells):
                continue
            yield CsvRow(start, cells, self.position)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _csv_error(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a cell is larger than {csv.field_size_limit():,} characters"
    if "NUL" in text:
        return "the row contains a NUL byte (a binary file?)"
    return f"the row cannot be read as CSV: {text}"
