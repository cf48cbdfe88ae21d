"""agent.attachments: text from PDF, CSV, XLSX and text attachments; limits and unreadable files."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage

import pytest

from agent.attachments import AttachmentLimits, extract_text, kind_of
from agent.parsing import parse_email
from agent.references import extract_references
from tests.agent.builders import demo_rules

fpdf = pytest.importorskip("fpdf", reason="fpdf2 (dev extra) writes the test PDFs")
openpyxl = pytest.importorskip("openpyxl", reason="openpyxl (dev extra) writes the test XLSX files")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def make_pdf(*lines: str) -> bytes:
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_pdf_text_is_extracted() -> None:
    got = extract_text(filename="Invoice.pdf", content_type="application/pdf",
                       payload=make_pdf("INVOICE", "Invoice No: 2026-10417", "Order: NK204117"))
    assert got.skipped_reason is None
    assert "Invoice No: 2026-10417" in got.text and "NK204117" in got.text


def test_pdf_by_name_when_the_type_is_generic() -> None:
    got = extract_text(filename="booking.PDF", content_type="application/octet-stream",
                       payload=make_pdf("Booking No.: 261123456"))
    assert "261123456" in got.text


def test_pdf_page_limit() -> None:
    pdf = fpdf.FPDF()
    pdf.set_font("Helvetica", size=11)
    for n in range(3):
        pdf.add_page()
        pdf.cell(0, 8, f"page marker P{n}X")
    got = extract_text(filename="a.pdf", content_type="application/pdf", payload=bytes(pdf.output()),
                       limits=AttachmentLimits(max_pages=2))
    assert "P0X" in got.text and "P1X" in got.text and "P2X" not in got.text


def test_corrupt_pdf_is_listed_with_a_reason() -> None:
    got = extract_text(filename="broken.pdf", content_type="application/pdf", payload=b"%PDF-1.4 garbage \x00\x01")
    assert got.text == ""
    assert got.skipped_reason is not None and "pdf" in got.skipped_reason


def test_xlsx_rows_become_lines() -> None:
    payload = make_xlsx([["Container", "POL", "POD", "Pallets"], ["MSKU7719028", "NOOSL", "DEHAM", 12.0]])
    got = extract_text(filename="containers.xlsx", content_type=XLSX, payload=payload)
    assert "Container | POL | POD | Pallets" in got.text
    assert "MSKU7719028 | NOOSL | DEHAM | 12" in got.text  # a whole float is written as an integer


def test_xlsx_zip_bomb_guard() -> None:
    payload = make_xlsx([["x" * 1000] for _ in range(50)])
    got = extract_text(filename="big.xlsx", content_type=XLSX, payload=payload,
                       limits=AttachmentLimits(max_unzipped_bytes=1000))
    assert got.text == "" and "unzips to" in (got.skipped_reason or "")


def test_not_a_zip_xlsx_is_unreadable() -> None:
    got = extract_text(filename="fake.xlsx", content_type=XLSX, payload=b"PK\x03\x04 not really a zip")
    assert got.text == "" and got.skipped_reason


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_csv_with_any_common_separator(sep: str) -> None:
    rows = ["SSCC", "Order"], ["370123450000000018", "NK204117"]
    payload = "\r\n".join(sep.join(r) for r in rows).encode("cp1252")
    got = extract_text(filename="packing_list.csv", content_type="text/csv", payload=payload)
    assert "370123450000000018 | NK204117" in got.text


def test_plain_text_attachment_in_a_declared_charset() -> None:
    got = extract_text(filename="notes.txt", content_type="text/plain", payload="Grüße aus Lübeck".encode("latin-1"),
                       charset="iso-8859-1")
    assert got.text == "Grüße aus Lübeck"


def test_size_limit_lists_without_reading() -> None:
    got = extract_text(filename="big.pdf", content_type="application/pdf", payload=b"%PDF" + b"0" * 5000,
                       limits=AttachmentLimits(max_bytes=1000))
    assert got.text == "" and "over the 1000-byte limit" in (got.skipped_reason or "")


def test_images_and_unknown_types_have_reasons() -> None:
    assert "image" in (extract_text(filename="p.jpg", content_type="image/jpeg", payload=b"\xff\xd8").skipped_reason
                       or "")
    assert "unsupported" in (extract_text(filename="x.bin", content_type="application/zip",
                                          payload=b"PK").skipped_reason or "")


def test_kind_of() -> None:
    assert kind_of(filename="a.xlsm", content_type="application/octet-stream") == "xlsx"
    assert kind_of(filename=None, content_type="text/csv") == "csv"
    assert kind_of(filename="invite.ics", content_type="text/calendar") is None


def test_references_inside_attachments_are_found_with_their_source() -> None:
    msg = EmailMessage()
    msg["From"] = "kari.nilsen@hansen-mobler.example"
    msg["Subject"] = "Dokumenter"
    msg["Message-ID"] = "<att@x>"
    msg.set_content("Se vedlagt.")
    msg.add_attachment(make_pdf("Invoice No: 2026-10417", "Order: NK204117"), maintype="application",
                       subtype="pdf", filename="Invoice_2026-10417.pdf")
    msg.add_attachment(make_xlsx([["Container"], ["MSKU7719028"]]), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename="c.xlsx")
    em = parse_email(raw=msg.as_bytes())
    by_value = {r.value: (r.kind.value, r.source.value) for r in extract_references(email=em, rules=demo_rules())}
    assert by_value["202610417"] == ("invoice_number", "attachment_name")
    assert by_value["NK204117"] == ("order_number", "attachment")
    assert by_value["MSKU7719028"] == ("container_number", "attachment")
    assert {a.filename: bool(a.text) for a in em.attachments} == {"Invoice_2026-10417.pdf": True, "c.xlsx": True}


def test_a_zip_file_is_listed_not_read() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("a.txt", "hello")
    got = extract_text(filename="docs.zip", content_type="application/zip", payload=out.getvalue())
    assert got.text == "" and got.skipped_reason == "unsupported type application/zip"
