"""Data in and out without loss: streaming and hostile imports, spreadsheets, round trips, feed/site merges.

Each acceptance check of the data-safety work is a test here, through the CLI where a user would meet it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from sqlmodel import select

from recruiter.accounts.roles import Actor
from recruiter.catalogue import readers
from recruiter.catalogue.importing import BATCH, ImportReport, import_files, read_rows, save_records
from recruiter.core.models import Community
from recruiter.core.text import FORMULA_STARTS

HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.fixture(autouse=True)
def _weightless_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")  # imports embed; these tests are about the data


def _communities(db_url: str) -> list[Community]:
    from recruiter.core.db import open_session

    with open_session(db_url) as session:
        return list(session.exec(select(Community).order_by(Community.id)).all())


def _by_url(db_url: str) -> dict[str, Community]:
    return {c.url: c for c in _communities(db_url)}


# --- spreadsheets ----------------------------------------------------------------------------------------

def _xlsx(path: Path, rows: list[list]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_imports_three_rows_and_exports_them_back(cli, db_url, tmp_path: Path) -> None:
    source = _xlsx(tmp_path / "partners.xlsx", [
        ["URL", "Name", "Kind", "Description", "Followers"],
        ["https://www.reddit.com/r/espresso/", "r/espresso", "subreddit", "Home baristas", 300000],
        ["https://beanblog.example.com", "Bean Blog – café notes", "blog", "Roasting at home", "12k"],
        ["https://pod.example.com", "Grind Pod", "podcast", "Interviews with roasters", 1200.0],
    ])
    result = cli("import", source)
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output
    stored = _by_url(db_url)
    assert stored["https://pod.example.com"].audience_size == 1200
    assert stored["https://beanblog.example.com"].audience_size == 12000

    out = tmp_path / "out.xlsx"
    result = cli("export", "--format", "xlsx", "-o", out)
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    sheet = load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    names = {row[header.index("name")] for row in rows[1:]}
    assert names == {"r/espresso", "Bean Blog – café notes", "Grind Pod"}


def _libreoffice_like_xlsx(path: Path) -> Path:
    """An .xlsx as LibreOffice writes it: shared strings, a date cell, followers as floats, a declared size far
    larger than the data, and trailing empty (styled) rows."""
    strings = ["URL", "Name", "Kind", "Followers", "Added", "https://a.example.com", "Alpha blog", "blog",
               "https://b.example.com", "Beta pod", "podcast", "'=cmd|' /C calc'!A0", "https://c.example.com"]
    shared = "".join(f"<si><t xml:space=\"preserve\">{s.replace('&', '&amp;').replace('<', '&lt;')}</t></si>"
                     for s in strings)

    def s(ref: str, index: int) -> str:
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    sheet_rows = [
        f'<row r="1">{s("A1", 0)}{s("B1", 1)}{s("C1", 2)}{s("D1", 3)}{s("E1", 4)}</row>',
        f'<row r="2">{s("A2", 5)}{s("B2", 6)}{s("C2", 7)}<c r="D2" t="n"><v>1200.0</v></c>'
        f'<c r="E2" s="1" t="n"><v>45292</v></c></row>',
        f'<row r="3">{s("A3", 8)}{s("B3", 9)}{s("C3", 10)}<c r="D3" t="n"><v>3.5E3</v></c></row>',
        f'<row r="4">{s("A4", 12)}{s("B4", 11)}</row>',
        *[f'<row r="{n}" s="1" customFormat="true"></row>' for n in range(5, 40)],
    ]
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '</Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '</Relationships>'),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId2"/></sheets></workbook>'),
        "xl/styles.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<fonts count="1"><font><sz val="10"/><name val="Arial"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="true"/></cellXfs>'
            '</styleSheet>'),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{shared}</sst>'),
        "xl/worksheets/sheet1.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<dimension ref="A1:AMJ1048576"/><sheetData>' + "".join(sheet_rows) + '</sheetData></worksheet>'),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_libreoffice_style_xlsx(cli, db_url, tmp_path: Path) -> None:
    result = cli("import", _libreoffice_like_xlsx(tmp_path / "lo.xlsx"))
    assert result.exit_code == 0, result.output
    stored = _by_url(db_url)
    assert stored["https://a.example.com"].audience_size == 1200
    assert stored["https://a.example.com"].extra == {"Added": "2024-01-01"}
    assert (stored["https://b.example.com"].kind, stored["https://b.example.com"].audience_size) == ("podcast", 3500)
    # A protective apostrophe before = is a spreadsheet's, not the name's.
    assert stored["https://c.example.com"].name == "=cmd|' /C calc'!A0"
    assert "3 new" in result.output and "skipped" in result.output


def test_xlsx_errors_name_the_spreadsheet_row(cli, tmp_path: Path) -> None:
    source = _xlsx(tmp_path / "rows.xlsx", [
        [],
        ["Website", "Name", "Subscribers"],
        ["https://ok.example.com", "OK", 10],
        ["nope", "Bad", 5],
        ["https://worse.example.com", "Worse", "many"],
    ])
    result = cli("import", source)
    assert result.exit_code == 0, result.output
    assert "line 4: invalid url" in result.output
    assert "line 5: audience_size 'many' is not a number" in result.output


def test_xlsx_export_cells_cannot_run_as_formulas(cli, tmp_path: Path) -> None:
    rows = [{"url": f"https://f{i}.example.com", "name": text, "description": text}
            for i, text in enumerate([HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturn", "plain"])]
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert cli("import", tmp_path / "c.jsonl").exit_code == 0
    out = tmp_path / "out.xlsx"
    assert cli("export", "-o", out).exit_code == 0  # the format follows the suffix
    from openpyxl import load_workbook

    sheet = load_workbook(out).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    names = {cell.value for cell in cells if cell.column == 3 and cell.row > 1}
    assert HYPERLINK in names and "@SUM(A1)" in names
    risky = [cell for cell in cells if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS)]
    assert risky and all(cell.data_type == "s" and cell.quotePrefix for cell in risky)
    with zipfile.ZipFile(out) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    # And the workbook imports back to the same names.
    again = cli("import", out)
    assert "7 unchanged" in again.output, again.output


def test_export_xlsx_needs_a_file(cli) -> None:
    result = cli("export", "--format", "xlsx")
    assert result.exit_code != 0
    assert "-o" in result.output


# --- CSV round trip --------------------------------------------------------------------------------------

def test_csv_export_is_spreadsheet_safe_and_imports_back_exactly(cli, db_url, tmp_path: Path, monkeypatch) -> None:
    names = [HYPERLINK, "+44 cooking club", "-minimal", "@handle", "'quoted' on purpose", "'=already escaped"]
    rows = [{"url": f"https://r{i}.example.com", "name": name} for i, name in enumerate(names)]
    (tmp_path / "in.json").write_text(json.dumps(rows))
    assert cli("import", tmp_path / "in.json").exit_code == 0
    exported = tmp_path / "out.csv"
    assert cli("export", "--format", "csv", "-o", exported).exit_code == 0
    import csv

    with open(exported, newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert HYPERLINK not in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("RECRUITER_DB", fresh)
    assert cli("import", exported).exit_code == 0
    assert sorted(c.name for c in _communities(fresh)) == sorted(names)


def test_csv_export_import_keeps_feed_url_and_ignores_bookkeeping(cli, db_url, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "in.jsonl").write_text(json.dumps({"url": "https://site.example.com", "name": "Site",
                                                   "feed_url": "https://site.example.com/feed"}) + "\n")
    cli("import", tmp_path / "in.jsonl")
    exported = tmp_path / "out.csv"
    cli("export", "-o", exported)
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("RECRUITER_DB", fresh)
    assert cli("import", exported).exit_code == 0
    (community,) = _communities(fresh)
    assert community.feed_url == "https://site.example.com/feed"
    assert community.extra == {}  # source, first_seen and last_seen describe the old row, not the community


# --- formats and hostile input ---------------------------------------------------------------------------

def test_txt_list_of_urls(cli, db_url, tmp_path: Path) -> None:
    path = tmp_path / "pasted.txt"
    path.write_text("# partners to check\nhttps://a.example.com\n\nwww.reddit.com/r/Espresso  Espresso sub\n"
                    "not a url at all\n")
    result = cli("import", path)
    assert result.exit_code == 0, result.output
    assert "line 5: invalid url" in result.output and "missing url" not in result.output
    stored = _by_url(db_url)
    assert stored["https://www.reddit.com/r/espresso/"].name == "Espresso sub"
    assert "https://a.example.com" in stored


def test_txt_that_is_really_a_csv(cli, db_url, tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text("url,name\nhttps://a.example.com,A\n")
    assert cli("import", path).exit_code == 0
    assert _by_url(db_url)["https://a.example.com"].name == "A"


@pytest.mark.parametrize(("suffix", "words"), [(".xls", "old Excel"), (".pdf", "PDF"), (".docx", "Word")])
def test_unsupported_formats_are_named(cli, tmp_path: Path, suffix: str, words: str) -> None:
    path = tmp_path / f"list{suffix}"
    path.write_bytes(b"\xd0\xcf\x11\xe0 whatever")
    result = cli("import", path)
    assert result.exit_code == 1
    assert f"unsupported format {suffix}" in result.output and words in result.output
    assert ".xlsx" in result.output and ".csv" in result.output


def test_random_bytes_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(os.urandom(2 * 1024 * 1024))
    result = _run_cli(tmp_path, "import", str(path))
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode != 0
    assert len(lines) <= 30, lines[:40]
    assert "Traceback" not in result.stderr


def test_random_text_bytes_without_nul_stay_short(cli, tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    path = tmp_path / "noise.csv"
    path.write_bytes(bytes(rng.randrange(1, 256) for _ in range(2 * 1024 * 1024)))
    result = cli("import", path)
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) <= 30


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_deeply_nested_json_is_one_line(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    result = _run_cli(tmp_path, "import", str(path))
    output = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and len(output) <= 3, output
    assert "nested too deeply" in result.stdout


def test_deeply_nested_object_file(cli, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    result = cli("import", path)
    assert result.exit_code == 1
    assert "line 1: invalid JSON: nested too deeply" in result.output


def test_encodings(cli, db_url, tmp_path: Path) -> None:
    (tmp_path / "latin.csv").write_bytes("url,name\nhttps://cafe.example.com,Café crème\n".encode("cp1252"))
    (tmp_path / "bom.csv").write_bytes("\ufeffurl;name\nhttps://bom.example.com;Zoë\n".encode())
    (tmp_path / "excel.txt").write_bytes("url\tname\nhttps://utf16.example.com\tÜber\n".encode("utf-16"))
    result = cli("import", tmp_path / "latin.csv", tmp_path / "bom.csv", tmp_path / "excel.txt")
    assert result.exit_code == 0, result.output
    stored = _by_url(db_url)
    assert stored["https://cafe.example.com"].name == "Café crème"
    assert stored["https://bom.example.com"].name == "Zoë"
    assert stored["https://utf16.example.com"].name == "Über"
    assert "read as cp1252" in result.output


def test_invalid_utf8_later_in_the_file_is_counted(cli, db_url, tmp_path: Path) -> None:
    body = b"url,name\n" + b"".join(b"https://r%d.example.com,Row %d\n" % (i, i) for i in range(5000))
    body += b"https://bad.example.com,Bad \xff byte\n"
    (tmp_path / "late.csv").write_bytes(body)
    result = cli("import", tmp_path / "late.csv")
    assert result.exit_code == 0
    assert "1 byte sequences that are not valid utf-8" in result.output
    assert _by_url(db_url)["https://bad.example.com"].name == "Bad \ufffd byte"


def test_at_most_twenty_errors_then_a_count(cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("url,name\n" + "".join(f"bad{i},x\n" for i in range(45)))
    result = cli("import", path)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1  # nothing imported
    assert sum(line.startswith("line ") for line in lines) == 20
    assert "… and 25 more" in lines
    assert "45 skipped" in lines[-1]


def test_huge_field_is_skipped_and_the_rest_imported(cli, db_url, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with open(path, "w") as fh:
        fh.write("url,name,description\n")
        fh.write('https://big.example.com,Big,"' + "x" * (3 * readers.MAX_FIELD) + '"\n')
        fh.write("https://huge.example.com,Huge," + "y" * (readers.MAX_LINE + 10) + "\n")
        for i in range(3):
            fh.write(f"https://good{i}.example.com,Good {i},fine\n")
    result = cli("import", path)
    assert result.exit_code == 0, result.output[:500]
    assert "line 2: field too large" in result.output
    assert "line 3: field too large" in result.output
    assert set(_by_url(db_url)) == {f"https://good{i}.example.com" for i in range(3)}


def test_json_list_streams_with_lines_and_wrappers(tmp_path: Path) -> None:
    items = [{"url": f"https://j{i}.example.com", "name": f"J {i}", "emails": [f"a{i}@x.com"]} for i in range(3000)]
    path = tmp_path / "wrapped.json"
    path.write_text('{"generated": "today", "communities": ' + json.dumps(items, indent=1) + "}")
    rows = list(read_rows(path))
    starts = [n for n, line in enumerate(path.read_text().splitlines(), start=1) if line.strip() in ("{", "[{")]
    assert len(rows) == 3000 and [r.line for r in rows] == starts
    single = tmp_path / "single.json"
    single.write_text(json.dumps({"url": "https://one.example.com", "emails": ["a@b.example.com"]}))
    (row,) = list(read_rows(single))
    assert row.data["emails"] == ["a@b.example.com"]  # a community's own list is not a list of communities


def test_json_reader_survives_small_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers._JsonStream, "CHUNK", 7)
    items = [{"url": f"https://c{i}.example.com", "audience_size": 123456789, "flag": True, "nothing": None,
              "text": "a \\\"quoted\\\" \u00e9 string"} for i in range(50)]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(items, indent=2))
    rows = list(read_rows(path))
    assert [r.data for r in rows] == items
    assert rows[1].line == 9


def test_unclosed_json_list_keeps_the_rows_before(cli, db_url, tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('[\n{"url": "https://a.example.com"},\n{"url": "https://b.example.com"}\n')
    result = cli("import", path)
    assert result.exit_code == 0
    assert "not closed" in result.output
    assert len(_communities(db_url)) == 2


def test_rss_file_is_not_an_opml(cli, tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>')
    result = cli("import", path)
    assert result.exit_code == 1 and "recruiter scrape" in result.output


def test_broken_xlsx_is_one_line(cli, tmp_path: Path) -> None:
    (tmp_path / "fake.xlsx").write_bytes(os.urandom(5000))
    with zipfile.ZipFile(tmp_path / "zip.xlsx", "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    result = cli("import", tmp_path / "fake.xlsx", tmp_path / "zip.xlsx")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 3 and all("XLSX" in line for line in lines[:2])


# --- batches and reports ---------------------------------------------------------------------------------

def test_save_records_streams_in_committed_batches(session) -> None:
    from recruiter.core.db import open_session

    url = str(session.get_bind().url)
    seen_mid_way: list[int] = []

    def rows():
        for i in range(BATCH * 2 + 10):
            if i == BATCH + 5:
                with open_session(url) as other:  # another connection sees the first batch committed
                    seen_mid_way.append(len(other.exec(select(Community.id)).all()))
            yield {"url": f"https://s{i}.example.com", "name": f"S{i}"}

    report = save_records(rows(), session=session)
    assert seen_mid_way == [BATCH]
    assert (report.read, report.created) == (BATCH * 2 + 10, BATCH * 2 + 10)
    assert not hasattr(report, "urls")  # a million-row import keeps counts, not a million URLs


def test_report_keeps_only_the_first_errors() -> None:
    report = ImportReport()
    for i in range(100_000):
        report.add_error(f"line {i}: bad")
    assert len(report.errors) == 20 and report.error_count == 100_000
    assert report.error_lines()[-1] == "… and 99980 more"


def test_concurrent_imports_of_the_same_file(db_url: str, tmp_path: Path) -> None:
    from recruiter.core.db import open_session

    path = tmp_path / "same.csv"
    path.write_text("url,name\n" + "".join(f"https://c{i}.example.com,C{i}\n" for i in range(3000)))
    reports: list[ImportReport] = []
    errors: list[BaseException] = []
    with open_session(db_url):
        pass  # the schema exists before the race: this test is about the rows

    def run() -> None:
        try:
            with open_session(db_url) as session:
                reports.append(import_files([path], actor=Actor.cli(), session=session))
        except BaseException as exc:  # pragma: no cover - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(_communities(db_url)) == 3000
    assert all(r.imported == 3000 for r in reports)


# --- never lose what is stored ---------------------------------------------------------------------------

def test_a_title_never_replaces_a_stored_name(cli, db_url, tmp_path: Path) -> None:
    (tmp_path / "first.json").write_text(json.dumps([{"url": "https://alpha.example.com", "name": "Alpha"}]))
    (tmp_path / "second.json").write_text(json.dumps([{"url": "https://alpha.example.com", "title": "Beta"}]))
    assert cli("import", tmp_path / "first.json").exit_code == 0
    assert cli("import", tmp_path / "second.json").exit_code == 0
    alpha = _by_url(db_url)["https://alpha.example.com"]
    assert (alpha.name, alpha.title) == ("Alpha", "Beta")


def test_a_scrape_never_replaces_a_stored_name_or_demotes_a_kind(memory_session) -> None:
    save_records([{"url": "https://show.example.com", "name": "The Show", "kind": "podcast"}],
                 session=memory_session)
    save_records([{"url": "https://show.example.com", "name": "Home | The Show", "title": "Home | The Show",
                   "kind": "blog", "description": "About the show"}], session=memory_session, source="scrape")
    show = memory_session.exec(select(Community)).one()
    assert (show.name, show.kind, show.description) == ("The Show", "podcast", "About the show")


def test_a_file_that_names_the_kind_is_the_users_word(memory_session) -> None:
    save_records([{"url": "https://x.example.com", "kind": "podcast"}], session=memory_session)
    save_records([{"url": "https://x.example.com", "kind": "blog"}], session=memory_session)
    assert memory_session.exec(select(Community)).one().kind == "blog"


# --- a feed and its site are one community ---------------------------------------------------------------

FEED = "https://show.example.com/feed.xml"
SITE = "https://show.example.com"


def _feed_record() -> dict:
    return {"url": FEED, "feed_url": FEED, "kind": "podcast", "name": "The Show", "title": "The Show",
            "recent_posts": ["Episode 2", "Episode 1"], "emails": ["host@show.example.com"]}


def _site_record() -> dict:
    return {"url": SITE, "feed_url": FEED, "kind": "blog", "name": "The Show – home", "title": "The Show – home",
            "description": "A weekly show", "socials": ["https://twitter.com/theshow"]}


@pytest.mark.parametrize("order", ["feed first", "site first"])
def test_feed_and_site_merge_in_any_order(memory_session, order: str) -> None:
    records = [_feed_record(), _site_record()]
    if order == "site first":
        records.reverse()
    for record in records:
        save_records([record], session=memory_session, source="scrape")
    (show,) = memory_session.exec(select(Community)).all()
    assert (show.url, show.feed_url, show.kind) == (SITE, FEED, "podcast")
    assert show.emails == ["host@show.example.com"] and show.socials == ["https://twitter.com/theshow"]
    assert show.recent_posts == ["Episode 2", "Episode 1"] and show.description == "A weekly show"
    # Idempotent: both again, in both orders, change nothing.
    again = save_records([_site_record(), _feed_record()], session=memory_session, source="scrape")
    assert again.created == 0 and len(memory_session.exec(select(Community)).all()) == 1


def test_feed_and_site_in_one_batch(memory_session) -> None:
    report = save_records([_feed_record(), _site_record()], session=memory_session, source="scrape")
    (show,) = memory_session.exec(select(Community)).all()
    assert (show.url, show.feed_url, show.kind) == (SITE, FEED, "podcast")
    assert report.created == 1 and report.merged == 1


PODCAST_OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="1.0"><head><title>Pocket Casts Feeds</title></head><body><outline text="feeds">
  <outline type="rss" text="The Show" xmlUrl="https://show.example.com/feed.xml" htmlUrl="https://show.example.com/"/>
  <outline type="rss" text="Hosted A" xmlUrl="https://feeds.example-host.com/a.xml" htmlUrl="https://example-host.com"/>
  <outline type="rss" text="Hosted B" xmlUrl="https://feeds.example-host.com/b.xml" htmlUrl="https://example-host.com"/>
</outline></body></opml>"""


def test_podcast_opml_imports_as_podcasts_and_merges_with_the_site(cli, db_url, tmp_path: Path) -> None:
    (tmp_path / "site.csv").write_text(f"url,name,description\n{SITE},The Show,Our site\n")
    assert cli("import", tmp_path / "site.csv").exit_code == 0
    (tmp_path / "podcasts.opml").write_text(PODCAST_OPML)
    result = cli("import", tmp_path / "podcasts.opml")
    assert result.exit_code == 0, result.output
    stored = _by_url(db_url)
    assert stored[SITE].kind == "podcast" and stored[SITE].feed_url == FEED
    assert stored[SITE].description == "Our site"
    # Two shows that give the same host page as their site stay two communities, keyed by their feeds.
    assert {u for u in stored if "example-host" in u} == {"https://example-host.com",
                                                          "https://feeds.example-host.com/b.xml"}
    assert all(c.kind == "podcast" for c in stored.values())
    assert len(stored) == 3
    again = cli("import", tmp_path / "podcasts.opml")
    assert "0 new" in again.output and len(_communities(db_url)) == 3


@pytest.mark.parametrize("opml", [
    '<opml version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><head><title>Subs</title></head>'
    '<body><outline type="rss" text="P" xmlUrl="https://p.example.com/rss"/></body></opml>',
    '<opml version="2.0"><head><title>My feeds</title></head><body><outline text="Podcasts">'
    '<outline type="rss" text="P" xmlUrl="https://p.example.com/rss"/></outline></body></opml>',
    '<opml version="2.0"><head><title>My feeds</title></head><body>'
    '<outline type="rss" text="P" xmlUrl="https://feeds.megaphone.fm/ABC123"/></body></opml>',
])
def test_opml_podcast_signals(tmp_path: Path, memory_session, opml: str) -> None:
    path = tmp_path / "subs.opml"
    path.write_text(opml)
    save_records(read_rows(path), session=memory_session)
    assert memory_session.exec(select(Community)).one().kind == "podcast"


def test_opml_of_blogs_stays_blog(tmp_path: Path, memory_session) -> None:
    path = tmp_path / "blogs.opml"
    path.write_text('<opml version="2.0"><head><title>Blogs</title></head><body><outline text="Tech">'
                    '<outline type="rss" text="B" xmlUrl="https://b.example.com/feed" htmlUrl="https://b.example.com"/>'
                    "</outline></body></opml>")
    save_records(read_rows(path), session=memory_session)
    community = memory_session.exec(select(Community)).one()
    assert (community.url, community.kind) == ("https://b.example.com", "blog")


# --- helpers ---------------------------------------------------------------------------------------------

def _run_cli(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "RECRUITER_HOME": str(tmp_path / "home"), "RECRUITER_MODEL": "hashing",
                   "RECRUITER_DB": f"sqlite:///{tmp_path / 'cli.db'}", **(env or {})}
    return subprocess.run([str(Path(sys.executable).parent / "recruiter"), *args], capture_output=True,
                          text=True, env=environment, timeout=300)


def test_xlsx_zip_bomb_is_refused(cli, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "bomb.xlsx", [["url"], ["https://a.example.com"]])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.xml", "<a>" + "x" * (100 << 20) + "</a>")
    result = cli("import", path)
    assert result.exit_code == 1 and "expands" in result.output


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_to_a_missing_folder_is_one_line(cli, tmp_path: Path, fmt: str) -> None:
    result = cli("export", "--format", fmt, "-o", tmp_path / "no" / "such" / f"out.{fmt}")
    assert result.exit_code == 2 and "cannot write" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_scraped_feed_merges_into_its_site_by_the_feeds_link(memory_session) -> None:
    from sqlmodel import func, select

    from recruiter.catalogue.importing import save_records
    from recruiter.core.models import Community
    from scrapers.records import finalize, to_import_record

    save_records([{"url": "https://trailnotes.example.com/", "name": "Trail Notes", "kind": "blog"}],
                 session=memory_session)
    feed = finalize({"url": "https://feeds.example.net/trailnotes.xml", "ok": True, "kind": "podcast",
                     "title": "Trail Notes Podcast", "feed_url": "https://feeds.example.net/trailnotes.xml",
                     "site_url": "https://trailnotes.example.com/"})
    assert feed["site_url"] == "https://trailnotes.example.com/"
    save_records([to_import_record(feed)], session=memory_session, source="scrape")
    assert memory_session.exec(select(func.count()).select_from(Community)).one() == 1
    community = memory_session.exec(select(Community)).one()
    assert community.feed_url == "https://feeds.example.net/trailnotes.xml" and community.name == "Trail Notes"
