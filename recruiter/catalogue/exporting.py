"""Writing communities out in the import shape, so an export imports again to the same rows.

CSV goes through the CLI's shared writer (spreadsheet-safe cells); XLSX is written here with openpyxl in
write-only mode, streaming the communities from the database. In XLSX every text cell is a string cell: text
starting with = + - @ (or tab, CR) cannot run as a formula, and is also marked with Excel's own quote prefix so
it stays text when someone edits the cell. No apostrophe is added, so the text imports back exactly.

An export needs EXPORT (`recruiter.accounts.roles`) and is recorded in the audit log ("export", with the kind,
the format and how many rows) before the first row is read.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select

from recruiter.accounts import audit
from recruiter.accounts.roles import EXPORT, Actor, require
from recruiter.core.models import Community
from recruiter.core.text import FORMULA_STARTS

EXPORT_COLUMNS = ["url", "kind", "name", "title", "description", "language", "audience_size", "site_name",
                  "author", "feed_url", "recent_posts", "emails", "socials", "source", "first_seen", "last_seen"]
XLSX_CELL_LIMIT = 32_767  # characters Excel keeps in one cell


def community_to_dict(community: Community) -> dict[str, Any]:
    data = {key: getattr(community, key) for key in EXPORT_COLUMNS}
    for key in ("first_seen", "last_seen"):
        data[key] = data[key].isoformat(timespec="seconds") if data[key] else None
    return data


def iter_export_rows(*, actor: Actor, session: Session, kind: str | None = None, fmt: str = "",
                     batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Communities in id order, read from the database a batch at a time. The permission is checked and the
    export recorded when this is called, before the first row is read."""
    actor = require(actor, EXPORT, session=session)
    count = select(func.count()).select_from(Community)
    if kind:
        count = count.where(Community.kind == kind)
    audit.record(actor, "export", "communities", {"what": "communities", "kind": kind, "format": fmt or None,
                                                  "rows": int(session.exec(count).one())}, session=session)
    session.commit()
    return _rows(session=session, kind=kind, batch=batch)


def _rows(*, session: Session, kind: str | None, batch: int) -> Iterator[dict[str, Any]]:
    query = select(Community).order_by(Community.id)
    if kind:
        query = query.where(Community.kind == kind)
    for community in session.exec(query.execution_options(yield_per=batch)):
        yield community_to_dict(community)


def export_rows(*, actor: Actor, session: Session, kind: str | None = None, fmt: str = "") -> list[dict[str, Any]]:
    return list(iter_export_rows(actor=actor, session=session, kind=kind, fmt=fmt))


@dataclass
class XlsxReport:
    rows: int = 0
    cut_cells: int = 0  # cells longer than Excel keeps, cut at XLSX_CELL_LIMIT


def write_xlsx(path: Path | str, rows: Iterator[dict[str, Any]], columns: list[str] = EXPORT_COLUMNS,
               *, sheet_title: str = "communities") -> XlsxReport:
    """Write rows to an .xlsx file (header row, then one row each); the file appears whole or not at all."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    path = Path(path)
    report = XlsxReport()
    # The temporary file first: a folder that does not exist fails before any work (and any half-written file).
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(sheet_title)
        sheet.append(columns)
        for row in rows:
            cells = []
            for column in columns:
                value, cut = xlsx_value(row.get(column))
                report.cut_cells += cut
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # never "f": openpyxl would write text starting with = as a formula
                    if value.startswith(FORMULA_STARTS):
                        cell.quotePrefix = True
                cells.append(cell)
            sheet.append(cells)
            report.rows += 1
        workbook.save(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return report


def xlsx_value(value: Any) -> tuple[Any, int]:
    """A value as an XLSX cell holds it, and 1 when it had to be cut to Excel's cell limit: lists joined with
    `|` as in CSV, characters XML cannot carry dropped."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or isinstance(value, (bool, int, float)):
        return value, 0
    if isinstance(value, list):
        value = "|".join(map(str, value))
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS):
        text = "'" + text  # import strips a protective apostrophe: this one is the text's own
    if len(text) > XLSX_CELL_LIMIT:
        return text[: XLSX_CELL_LIMIT - 1] + "…", 1
    return text, 0
