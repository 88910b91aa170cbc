"""Tables as downloads that open cleanly in a Norwegian Excel: CSV with `;` between fields and a UTF-8 BOM (so
Excel reads the columns and the æøå), and XLSX with a bold, frozen header row, an auto-filter, dates as dates, a
status column coloured as the pages colour it, and sensible column widths.

    download("xlsx", "kompetanse-akutt", "Akutt", [Column("Navn", 28), Column("Status", kind="status"), …],
             rows, labels=status_labels())

A row is a list of values: text, numbers, `date`s, None (empty); in a `status` column the status key, which
`labels` turns into words and the XLSX colours."""
import csv
import io
from dataclasses import dataclass
from datetime import date

from flask import Response, abort
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Text and background of each status, as in site.css (.status-…).
COLOURS = {"fulfilled": ("0B6B2E", "E3F4E8"), "expiring": ("7A4A00", "FFF1D6"),
           "awaiting_attestation": ("7A4A00", "FFF1D6"), "expired": ("A1131B", "FDE5E6"),
           "missing": ("A1131B", "FDE5E6"), "not_yet_due": ("24456B", "E6EEF8"), "not_required": ("4A4A4A", "EEEEEE"),
           "closed": ("4A4A4A", "EEEEEE")}


# What a spreadsheet reads as the start of a formula: names and titles come from HR files and from users.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(value) -> str:
    """A CSV cell a spreadsheet shows as the text it is, not as a formula (=2+2 becomes '=2+2)."""
    text = value or ""
    return "'" + text if text[:1] in FORMULA_START else text


@dataclass(frozen=True)
class Column:
    title: str
    width: int = 14
    kind: str = "text"  # text | date | status | share (0..1, shown as per cent)


def download(fmt: str, filename: str, sheet_title: str, columns: list[Column], rows, labels=None) -> Response:
    """The table as `filename`.csv or .xlsx (404 for another format)."""
    labels = labels or {}
    if fmt == "csv":
        body, mimetype = "\ufeff" + _csv(columns, rows, labels), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body, mimetype = _xlsx(sheet_title, columns, rows, labels), XLSX
    else:
        abort(404)
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})


def _csv(columns, rows, labels) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.title for c in columns])
    for row in rows:
        writer.writerow([_text(c, v, labels) for c, v in zip(columns, row)])
    return out.getvalue()


def _text(column: Column, value, labels) -> str:
    if value is None:
        return ""
    if column.kind == "status":
        return labels.get(value, value)
    if column.kind == "share":
        return f"{round(value * 100)} %"
    if isinstance(value, date):
        return value.isoformat()  # Excel reads ISO dates as dates in every locale
    return as_text(value) if isinstance(value, str) else str(value)


def _xlsx(sheet_title, columns, rows, labels) -> bytes:
    book = Workbook(write_only=True)  # streams the rows: several times faster for a big unit
    sheet = book.create_sheet("".join(ch for ch in sheet_title if ch not in "[]:*?/\\")[:31] or "Ark1")
    for index, c in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = c.width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    bold = Font(bold=True)
    sheet.append([_cell(sheet, c.title, font=bold) for c in columns])
    styles = {key: (Font(color=ink), PatternFill("solid", fgColor=bg)) for key, (ink, bg) in COLOURS.items()}
    formats = {"date": "DD.MM.YYYY", "share": "0 %"}
    for row in rows:
        out = []
        for c, value in zip(columns, row):
            if isinstance(value, str) and c.kind == "text" and value.startswith("="):
                cell = _cell(sheet, value)
                cell.data_type = "s"  # text, where openpyxl would write a formula
                out.append(cell)
            elif value is None or c.kind == "text":
                out.append(value)
            elif c.kind == "status":
                font, fill = styles.get(value, (None, None))
                out.append(_cell(sheet, labels.get(value, value), font=font, fill=fill))
            else:
                out.append(_cell(sheet, value, number_format=formats[c.kind]))
        sheet.append(out)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _cell(sheet, value, font=None, fill=None, number_format=None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if number_format is not None:
        cell.number_format = number_format
    return cell
