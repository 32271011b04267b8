"""Address labels for holiday cards: text, CSV with a column per part, or a printable PDF sheet.

A label is the customer's name (and company) over their address as written on an envelope
(``Address.lines``). A customer without a usable address (none, or a single line) gets no label
and is named in ``Labels.missing``, so the caller can say so: nobody is skipped silently.
The PDF is drawn with fpdf2 on standard sheets: ``3x7`` is A4 with 21 labels of 63.5 × 38.1 mm
(Avery L7160), ``3x10`` is US Letter with 30 labels of 2⅝ × 1 in (Avery 5160).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Literal

from crm.core.model import ADDRESS_PARTS, Address, Customer
from crm.report.render import to_csv

Layout = Literal["3x7", "3x10"]
CSV_COLUMNS = ("id", "name", "company", "address", *ADDRESS_PARTS)


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet of labels: the page, the label grid and its margins, in millimetres."""

    page: Literal["A4", "Letter"]
    columns: int
    rows: int
    width: float
    height: float
    left: float
    top: float
    gap: float  # between two columns


SHEETS: dict[Layout, Sheet] = {
    "3x7": Sheet("A4", 3, 7, 63.5, 38.1, 7.2, 15.15, 2.5),
    "3x10": Sheet("Letter", 3, 10, 66.675, 25.4, 4.7625, 12.7, 3.175),
}


@dataclass(frozen=True, slots=True)
class Label:
    """One customer's label: the lines to print, and the address they came from."""

    customer: Customer
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Labels:
    """The labels of the chosen customers, and who has none (with the reason)."""

    labels: tuple[Label, ...]
    missing: tuple[tuple[Customer, str], ...]


def address_lines(a: Address) -> tuple[str, ...]:
    """Return the envelope lines of an address; a one-line text is split at its commas."""
    lines = a.lines()
    if a.text is not None and len(lines) == 1:
        lines = tuple(part.strip() for part in lines[0].split(",") if part.strip())
    return lines


def label_head(c: Customer) -> tuple[str, ...]:
    """Return the lines above the address: the person and their company, or an organisation's
    name (and its contact person, "Attn. …")."""
    if c.is_org:
        person = c.contact.name or c.contact.first_name if c.contact else None
        return (c.name, f"Attn. {person}") if person else (c.name,)
    return (c.name, c.company) if c.company else (c.name,)


def make_labels(customers: Sequence[Customer]) -> Labels:
    """Return a label for every customer with a usable address, by name; the others as missing."""
    labels: list[Label] = []
    missing: list[tuple[Customer, str]] = []
    for c in sorted(customers, key=lambda c: (c.name.casefold(), c.id)):
        if c.address is None:
            missing.append((c, "no address"))
            continue
        lines = address_lines(c.address)
        if len(lines) < 2:
            missing.append((c, f"address '{c.address}' is not enough for a letter"))
            continue
        labels.append(Label(c, (*label_head(c), *lines)))
    return Labels(tuple(labels), tuple(missing))


def labels_text(labels: Labels) -> str:
    """Return the labels as text: one block per label, a blank line between two."""
    return "\n".join("".join(f"{line}\n" for line in label.lines) for label in labels.labels)


def labels_csv(labels: Labels) -> str:
    """Return one CSV row per label: the name, the address on one line, and each part."""
    rows = []
    for label in labels.labels:
        c = label.customer
        a = c.address
        assert a is not None
        parts = dict(a.parts()) if a.structured else {}
        written = ", ".join(label.lines[len(label_head(c)) :])
        row = {"id": c.id, "name": c.name, "company": c.company, "address": written}
        rows.append(row | {p: parts.get(p) for p in ADDRESS_PARTS})
    return to_csv(rows, list(CSV_COLUMNS))


def labels_pdf(labels: Labels, layout: Layout, font: Path | None, today: date) -> bytes:
    """Return the labels as a PDF of ``layout`` sheets, drawn with ``font`` (a TrueType file).

    The PDF is dated ``today`` (midnight UTC), so the same labels on a day give the same bytes.

    Without a font, the PDF's built-in Helvetica is used, which has Latin-1 letters only:
    anything else is printed as ``?`` (the caller warns).
    """
    from fpdf import FPDF

    sheet = SHEETS[layout]
    pdf = FPDF(unit="mm", format=sheet.page)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0)
    pdf.set_creation_date(datetime.combine(today, time.min, UTC))
    if font is not None:
        pdf.add_font("Label", "", str(font))
        family = "Label"
    else:
        family = "Helvetica"
    per_sheet = sheet.columns * sheet.rows
    pad = 4.0
    for n, label in enumerate(labels.labels):
        if n % per_sheet == 0:
            pdf.add_page()
        row, column = divmod(n % per_sheet, sheet.columns)
        x = sheet.left + column * (sheet.width + sheet.gap)
        y = sheet.top + row * sheet.height
        lines = [_printable(line, font is not None) for line in label.lines]
        size = _fit(pdf, family, lines, sheet.width - 2 * pad, sheet.height - 2 * pad)
        step = size * 0.3528 * 1.25  # points to millimetres, with some leading
        top = y + (sheet.height - step * len(lines)) / 2
        for i, line in enumerate(lines):
            pdf.set_xy(x + pad, top + i * step)
            pdf.cell(sheet.width - 2 * pad, step, line)
    return bytes(pdf.output())


def _fit(pdf: object, family: str, lines: Sequence[str], width: float, height: float) -> float:
    """Return the largest font size (11 pt down to 6 pt) at which ``lines`` fit the label."""
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    for size in (11.0, 10.0, 9.0, 8.0, 7.0, 6.0):
        pdf.set_font(family, size=size)
        tall = size * 0.3528 * 1.25 * len(lines)
        if tall <= height and all(pdf.get_string_width(line) <= width for line in lines):
            return size
    return 6.0


def _printable(text: str, unicode: bool) -> str:
    return text if unicode else text.encode("latin-1", "replace").decode("latin-1")
