"""Text from attachments: PDF, CSV, XLSX and plain text, within size limits.

Booking confirmations, packing lists and invoices carry the references a
customer asks about, so their text is read: PDF with pypdf (pure Python,
maintained by the py-pdf organisation), spreadsheets (XLSX, XLSM, XLS, ODS)
with python-calamine (bindings to the Rust calamine reader: about 300 times
faster than openpyxl on a small sheet, which matters at hundreds of messages
per second), CSV with the standard ``csv`` module, text with the same charset handling as
bodies. Anything larger than the limit, encrypted, corrupt or of another type
is listed with the reason no text was taken. Nothing here raises.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from agent.mime import decode_bytes

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """How much of an attachment is read."""

    max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES  # larger attachments are listed, not read
    max_chars: int = 200_000  # text kept per attachment
    max_pages: int = 30  # PDF pages read
    max_rows: int = 5_000  # CSV/XLSX rows read per sheet
    max_unzipped_bytes: int = 50 * 1024 * 1024  # XLSX: uncompressed size (zip bomb guard)


@dataclass(frozen=True, slots=True)
class ExtractedText:
    text: str = ""
    skipped_reason: str | None = None


_PDF = frozenset({"application/pdf", "application/x-pdf"})
_XLSX = frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "application/vnd.ms-excel.sheet.macroenabled.12", "application/vnd.ms-excel",
                   "application/vnd.oasis.opendocument.spreadsheet"})
_CSV = frozenset({"text/csv", "application/csv", "text/comma-separated-values", "text/x-csv"})
_TEXT_EXT = (".txt", ".text", ".log", ".edi", ".xml", ".json", ".md", ".tsv")


def kind_of(*, filename: str | None, content_type: str) -> str | None:
    """``pdf``, ``xlsx``, ``csv``, ``text`` or None, from the type and (for generic types) the name."""
    name = (filename or "").lower()
    ctype = content_type.lower()
    if ctype in _PDF or name.endswith(".pdf"):
        return "pdf"
    if ctype in _CSV or name.endswith(".csv"):
        return "csv"
    if ctype in _XLSX or name.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        return "xlsx"
    if (ctype.startswith("text/") and ctype not in ("text/html", "text/calendar")) or name.endswith(_TEXT_EXT):
        return "text"
    return None


def extract_text(*, filename: str | None, content_type: str, payload: bytes, charset: str | None = None,
                 limits: AttachmentLimits = AttachmentLimits()) -> ExtractedText:
    """The text of one attachment, or the reason there is none."""
    kind = kind_of(filename=filename, content_type=content_type)
    if kind is None:
        if content_type.startswith("image/"):
            return ExtractedText(skipped_reason="image: no text extracted")
        return ExtractedText(skipped_reason=f"unsupported type {content_type}")
    if not payload:
        return ExtractedText(skipped_reason="empty")
    if len(payload) > limits.max_bytes:
        return ExtractedText(skipped_reason=f"{len(payload)} bytes, over the {limits.max_bytes}-byte limit "
                                            f"for text extraction")
    try:
        if kind == "pdf":
            text = _pdf(payload, limits)
        elif kind == "xlsx":
            text = _xlsx(payload, limits)
        elif kind == "csv":
            text = _csv(decode_bytes(payload, charset), limits)
        else:
            text = decode_bytes(payload, charset)
    except _Unreadable as exc:
        return ExtractedText(skipped_reason=str(exc))
    except Exception as exc:  # third-party parsers raise anything on corrupt files
        log.info("attachment unreadable", extra={"attachment": filename, "kind": kind, "error": repr(exc)})
        return ExtractedText(skipped_reason=f"unreadable {kind}: {type(exc).__name__}")
    text = text.replace("\x00", "").strip()
    if len(text) > limits.max_chars:
        text = text[: limits.max_chars]
    if not text:
        return ExtractedText(skipped_reason=f"no text in {kind}" + (" (scanned image?)" if kind == "pdf" else ""))
    return ExtractedText(text=text)


class _Unreadable(Exception):
    """An attachment that cannot be read, with the reason as message."""


def _pdf(payload: bytes, limits: AttachmentLimits) -> str:
    from pypdf import PdfReader  # imported on use: most messages carry no PDF

    reader = PdfReader(io.BytesIO(payload), strict=False)
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                raise _Unreadable("encrypted pdf")
        except _Unreadable:
            raise
        except Exception as exc:
            raise _Unreadable("encrypted pdf") from exc
    pages = []
    for number, page in enumerate(reader.pages):
        if number >= limits.max_pages:
            break
        pages.append(page.extract_text() or "")
    return "\n".join(pages)


def _xlsx(payload: bytes, limits: AttachmentLimits) -> str:
    if payload[:4] == b"PK\x03\x04":  # XLSX, XLSM and ODS are zip files: guard against zip bombs
        try:
            with zipfile.ZipFile(io.BytesIO(payload)) as zf:
                unzipped = sum(info.file_size for info in zf.infolist())
        except zipfile.BadZipFile as exc:
            raise _Unreadable("unreadable spreadsheet: broken zip file") from exc
        if unzipped > limits.max_unzipped_bytes:
            raise _Unreadable(f"spreadsheet unzips to {unzipped} bytes, over the {limits.max_unzipped_bytes}-byte "
                              f"limit")
    from python_calamine import CalamineWorkbook  # imported on use

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(payload))
    lines = []
    for sheet_name in workbook.sheet_names:
        lines.append(f"[{sheet_name}]")
        rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=True)
        for row in rows[: limits.max_rows]:
            cells = [_cell(v) for v in row]
            if any(cells):
                lines.append(" | ".join(c for c in cells if c))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


def _csv(text: str, limits: AttachmentLimits) -> str:
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    lines = []
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect)):
        if number >= limits.max_rows:
            break
        cells = [" ".join(c.split()) for c in row]
        if any(cells):
            lines.append(" | ".join(c for c in cells if c))
    return "\n".join(lines)
