"""Reading uploaded files: CSV (encoding and delimiter detected), XLSX (read-only, streamed) and vCard.

`inspect(path, fmt)` reads the whole file once before anything is written, so a file that cannot be read
(wrong encoding half-way, broken zip, no header, no rows, duplicate headers) is refused as a whole with a
clear message; `rows(path, fmt)` then streams the data rows as lists of text aligned with the headers.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from core.errors import ValidationError

FORMATS = {"csv": "csv", "tsv": "csv", "txt": "csv", "xlsx": "xlsx", "vcf": "vcf", "vcard": "vcf"}
PREVIEW_ROWS = 5
_CHUNK = 1 << 20


def file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]}, detail="The file cannot be imported.")


def format_of(file_name: str) -> str:
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    fmt = FORMATS.get(extension)
    if fmt is None:
        raise file_error("Upload a .csv, .xlsx or .vcf file.")
    return fmt


@dataclass
class Inspection:
    headers: list[str]
    total_rows: int
    preview: list[list[str]] = field(default_factory=list)
    encoding: str = ""


# ---------------------------------------------------------------------------------------------------------
# CSV


def detect_encoding(path: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; cp1252 only when the whole file decodes cleanly
    as such and not as UTF-8. Anything else is a clear error."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    text = decoder.decode(chunk)
                    if "\x00" in text:
                        raise UnicodeDecodeError(encoding, b"", 0, 1, "NUL character")
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise file_error(
        "The file's text encoding is not recognised: save it as UTF-8 (\u201cCSV UTF-8\u201d in spreadsheet "
        "programs) and upload it again."
    )


def _dialect(path: str, encoding: str):
    with open(path, encoding=encoding, newline="") as handle:
        first = handle.readline()
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=lambda d: counts[d])
    return delimiter if counts[delimiter] else ","


def _csv_reader(path: str, encoding: str):
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the caller
    return handle, csv.reader(handle, delimiter=_dialect(path, encoding))


# ---------------------------------------------------------------------------------------------------------
# XLSX


def _xlsx_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal | int):
        return str(value)
    return str(value)


def _xlsx_rows(path: str) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise file_error(
            "This is not a readable XLSX file (the workbook is damaged or not an XLSX)."
        ) from exc
    except Exception as exc:  # openpyxl raises its own types for other damage
        raise file_error(
            "This is not a readable XLSX file (the workbook is damaged or not an XLSX)."
        ) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return
        for row in sheet.iter_rows(values_only=True):
            yield [_xlsx_cell(v) for v in row]
    finally:
        workbook.close()


# ---------------------------------------------------------------------------------------------------------
# Both


def _raw_rows(path: str, fmt: str, encoding: str) -> Iterator[list[str]]:
    if fmt == "xlsx":
        yield from _xlsx_rows(path)
        return
    handle, reader = _csv_reader(path, encoding)
    try:
        yield from reader
    except csv.Error as exc:
        raise file_error(f"The CSV file is malformed at line {reader.line_num}: {exc}.") from exc
    finally:
        handle.close()


def _blank(row: list[str]) -> bool:
    return not any(c.strip() for c in row)


def inspect(path: str, fmt: str) -> Inspection:
    """Read the whole file once: headers, number of data rows, the first rows for the preview."""
    import os

    if os.path.getsize(path) == 0:
        raise file_error("The file is empty.")
    if fmt == "vcf":
        from .vcard import vcard_read

        cards = vcard_read(path)
        return Inspection(headers=[], total_rows=len(cards), preview=[])
    encoding = "" if fmt == "xlsx" else detect_encoding(path)
    rows = _raw_rows(path, fmt, encoding)
    headers: list[str] | None = None
    total = 0
    preview: list[list[str]] = []
    for row in rows:
        if headers is None:
            if _blank(row):
                continue
            headers = [h.strip() for h in row]
            while headers and not headers[-1]:
                headers.pop()
            continue
        if _blank(row):
            continue
        total += 1
        if len(preview) < PREVIEW_ROWS:
            preview.append(_aligned(row, len(headers)))
    if headers is None:
        raise file_error("The file is empty.")
    seen: dict[str, int] = {}
    duplicates = []
    for header in headers:
        folded = header.lower()
        if folded and folded in seen:
            duplicates.append(header)
        seen[folded] = 1
    if duplicates:
        raise file_error(
            "The header row names a column more than once: "
            + ", ".join(f"\u201c{d}\u201d" for d in duplicates)
            + ". Rename the columns so that each name is used once."
        )
    if not any(headers):
        raise file_error("The first row must name the columns.")
    if total == 0:
        raise file_error("The file has a header row but no data rows.")
    return Inspection(headers=headers, total_rows=total, preview=preview, encoding=encoding)


def _aligned(row: list[str], width: int) -> list[str]:
    if len(row) < width:
        return row + [""] * (width - len(row))
    return row[:width]


def data_rows(path: str, fmt: str, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """(row number in the file counting the header as 1, cells aligned with the headers), blank rows
    left out."""
    width = None
    number = 0
    for row in _raw_rows(path, fmt, encoding):
        number += 1
        if width is None:
            if _blank(row):
                continue
            headers = [h.strip() for h in row]
            while headers and not headers[-1]:
                headers.pop()
            width = len(headers)
            continue
        if _blank(row):
            continue
        yield number, _aligned(row, width)
