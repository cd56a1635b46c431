"""Reading community files one row at a time: CSV/TSV, XLSX, JSON lists, JSONL, OPML and plain URL lists.

Why a module of its own: imports must stream. A file is never read or decoded whole, so peak memory is bounded
by the largest row the limits below allow, not by the file (a 200 MB CSV costs what a 3-row one does). Every row
carries the line it starts on (the spreadsheet row for XLSX), so a bad row is reported as ``line N: reason`` and
skipped while the good rows are kept; a file that cannot be read at all raises `RowError` with one clear line.

Hostile input is expected: binary data named ``.csv`` is refused from a sample instead of yielding thousands
of garbage rows; a 100,000-deep nested JSON value is a row error, not a `RecursionError`; a huge field is
``field too large`` and reading resumes on the next line.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from recruiter.catalogue.columns import column_key, field_of
from recruiter.core.errors import RecruiterError
from recruiter.core.text import from_spreadsheet

# Limits that bound memory whatever the file holds. A community's longest honest field (a description, a
# list of recent posts) is a few KB; these leave a wide margin.
MAX_FIELD = 1 << 20          # characters in one CSV/XLSX cell
MAX_LINE = 8 << 20           # characters in one physical line of a CSV, TSV, JSONL or text file
MAX_ITEM = 8 << 20           # characters in one object of a JSON list
MAX_SHARED_STRINGS = 256 << 20  # uncompressed bytes of an XLSX's string table (it is loaded whole by openpyxl)
SAMPLE = 64 << 10            # bytes read to decide the encoding (and that a file is text at all)

SUPPORTED = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".opml", ".xml", ".xlsx", ".xlsm")
# Formats people try that we name rather than misread as CSV.
UNSUPPORTED = {
    ".xls": "old Excel workbook: save it as .xlsx or .csv",
    ".xlsb": "binary Excel workbook: save it as .xlsx or .csv",
    ".ods": "OpenDocument spreadsheet: save it as .xlsx or .csv",
    ".numbers": "Apple Numbers file: export it as .xlsx or .csv",
    ".pdf": "PDF document",
    ".doc": "Word document", ".docx": "Word document", ".odt": "OpenDocument text", ".rtf": "rich text",
    ".pptx": "PowerPoint file", ".zip": "zip archive", ".gz": "compressed file", ".7z": "compressed file",
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".gif": "image", ".webp": "image",
    ".html": "web page: scrape it with `recruiter scrape URL --save` instead",
    ".htm": "web page: scrape it with `recruiter scrape URL --save` instead",
    ".sqlite": "database file", ".db": "database file",
}
PODCAST_HOSTS = (
    "anchor.fm", "buzzsprout.com", "libsyn.com", "podbean.com", "megaphone.fm", "simplecast.com",
    "transistor.fm", "captivate.fm", "acast.com", "omnycontent.com", "art19.com", "spreaker.com",
    "audioboom.com", "redcircle.com", "fireside.fm", "pinecast.com", "podomatic.com", "blubrry.com",
    "soundcloud.com/users", "feeds.soundcloud.com", "podcasts.apple.com", "podcastindex.org", "castos.com",
    "rss.com", "podigee.io", "ausha.co", "podcasters.spotify.com", "feeds.npr.org", "podtrac.com",
)
# A column that marks the OPML reader's "blog" as a default, not something the file said (see normalize).
KIND_GUESS_KEY = "\0kind_guess"


class RowError(RecruiterError, ValueError):
    """A row (or a whole file) that cannot be read; the message is fit to print after ``line N:``."""


@dataclass
class RawRow:
    line: int
    data: Any
    source: str = ""


@dataclass
class ReadStats:
    """What a reader noticed about the whole file, for the import report."""

    replaced: int = 0            # undecodable byte sequences replaced with U+FFFD
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)


# --- formats -------------------------------------------------------------------------------------------

def detect_format(path: Path, head: str = "") -> str:
    """The reader for a file: by its suffix, else by its first characters; `RowError` for a known non-format."""
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED:
        raise RowError(f"unsupported format {suffix} ({UNSUPPORTED[suffix]}); supported: {', '.join(SUPPORTED)}")
    if suffix in (".csv", ".tsv"):
        return suffix[1:]
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in (".opml", ".xml"):
        return "opml"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".txt":
        return "txt"
    if head.startswith("PK\x03\x04"):
        return "xlsx"
    stripped = head.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first = stripped.split("\n", 1)[0]
        try:
            json.loads(first)
            return "jsonl"
        except (ValueError, RecursionError):
            return "json"
    if stripped.startswith("<"):
        return "opml"
    return "csv"


def read_rows(path: Path | str, *, text: str | None = None, stats: ReadStats | None = None) -> Iterator[RawRow]:
    """Yield every row of a communities file with the line it starts on, reading the file incrementally.

    `text` reads already-decoded content instead of the file (the performance import passes it). A file that
    cannot be read at all raises `RowError` naming the line where reading failed."""
    path = Path(path)
    stats = stats if stats is not None else ReadStats()
    if text is not None:
        fmt = detect_format(path, text[:2000])
        if fmt in ("xlsx", "opml"):
            raise RowError(f"line 1: {fmt.upper()} cannot be read from text")
        yield from _read_text_format(fmt, io.StringIO(text, newline=""), text[:4096])
        return
    with open(path, "rb") as raw:
        head = raw.read(SAMPLE)
        raw.seek(0)
        fmt = detect_format(path, head[:2000].decode("latin-1"))
        if fmt == "xlsx":
            yield from _read_xlsx(path)
            return
        if fmt == "opml":
            yield from _read_opml(raw)
            return
        stream = open_text(raw, head, stats, newline="\n" if fmt in ("json", "jsonl") else "")
        sample = codecs.decode(head, stats.encoding, errors="replace")
        yield from _read_text_format(fmt, stream, sample[:4096])


def _read_text_format(fmt: str, stream: IO[str], sample: str) -> Iterator[RawRow]:
    if fmt == "txt" and not _is_url_list(sample):
        fmt = "csv"  # a CSV saved as .txt: its first line is a header, not a URL
    if fmt == "txt":
        yield from _read_txt(stream)
    elif fmt in ("csv", "tsv"):
        yield from _read_csv(stream, delimiter="\t" if fmt == "tsv" else None, sample=sample)
    elif fmt == "jsonl":
        yield from _read_jsonl(stream)
    else:
        yield from _read_json(stream)


# --- decoding ------------------------------------------------------------------------------------------

_counter = threading.local()


def _count_and_replace(exc: UnicodeDecodeError) -> tuple[str, int]:
    _counter.stats.replaced += 1
    return "\ufffd", exc.end


codecs.register_error("recruiter.count", _count_and_replace)

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def sniff_encoding(sample: bytes) -> str:
    """UTF-8 (BOM aware, UTF-16/32 by their BOM), else what charset detection makes of the sample; `RowError`
    when the sample is not text at all."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    if b"\x00" in sample:
        raise RowError("line 1: not a text file (binary data); supported: " + ", ".join(SUPPORTED))
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    results = [m for m in from_bytes(sample) if m.encoding]
    if not results:
        raise RowError("line 1: not a text file, or an unknown text encoding; save it as UTF-8")
    # A short sample fits several code pages equally well: prefer Windows-1252 (what spreadsheets on Western
    # systems write), then a candidate whose language was recognised.
    least = min(m.chaos for m in results)
    tied = [m for m in results if m.chaos <= least + 0.01]
    for match in tied:
        if match.encoding in ("cp1252", "latin_1", "iso8859_15"):
            return match.encoding
    known = [m for m in tied if m.language and m.language != "Unknown"]
    return (known or tied)[0].encoding


class _CountingReader(io.RawIOBase):
    """Binary pass-through that routes the decoder's error counter to this file's stats while it is read."""

    def __init__(self, raw: IO[bytes], stats: ReadStats) -> None:
        self.raw, self.stats = raw, stats

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        _counter.stats = self.stats
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_text(raw: IO[bytes], sample: bytes, stats: ReadStats, newline: str = "") -> IO[str]:
    """A text stream over a binary file: decoded incrementally, undecodable bytes counted and replaced."""
    encoding = sniff_encoding(sample)
    stats.encoding = encoding
    _counter.stats = stats
    return io.TextIOWrapper(io.BufferedReader(_CountingReader(raw, stats), 1 << 16), encoding=encoding,
                            errors="recruiter.count", newline=newline)


# --- lines ---------------------------------------------------------------------------------------------

class LineTooLong(Exception):
    pass


class _Lines:
    """Physical lines of a text stream, at most `limit` characters each: a longer one is skipped to its end
    (read in pieces, never held whole) and announced by raising `LineTooLong` once."""

    def __init__(self, stream: IO[str], limit: int = MAX_LINE) -> None:
        self.stream, self.limit, self.count = stream, limit, 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.stream.readline(self.limit + 1)
        if not line:
            raise StopIteration
        self.count += 1
        if len(line) > self.limit and not line.endswith(("\n", "\r")):
            while True:
                more = self.stream.readline(self.limit)
                if not more or more.endswith(("\n", "\r")):
                    break
            raise LineTooLong(self.count)
        return line


def _too_large(limit: int) -> str:
    return f"field too large (the limit is {limit // (1 << 20)} MB)"


# --- CSV and TSV ---------------------------------------------------------------------------------------

def _read_csv(stream: IO[str], delimiter: str | None, sample: str) -> Iterator[RawRow]:
    """Rows under the first non-empty row (the header). The delimiter is sniffed from the first 4 KB as the
    performance import does it, so both read a file the same way."""
    csv.field_size_limit(MAX_FIELD)
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    lines = _Lines(stream)
    reader = csv.reader(lines, delimiter=delimiter)
    keys: list[str] | None = None
    while True:
        start = lines.count + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except LineTooLong:
            reader = csv.reader(lines, delimiter=delimiter)
            if keys is None:
                raise RowError(f"line {start}: the header is too long to be a header") from None
            yield RawRow(start, RowError(_too_large(MAX_FIELD)))
            continue
        except csv.Error as exc:
            reader = csv.reader(lines, delimiter=delimiter)
            message = _too_large(MAX_FIELD) if "field limit" in str(exc) else f"unreadable CSV: {exc}"
            if keys is None:
                raise RowError(f"line {start}: {message}") from None
            yield RawRow(start, RowError(message))
            continue
        if not any(v.strip() for v in values):
            continue
        if keys is None:
            keys = _unique_keys(values)
            continue
        if len(values) > len(keys):
            if any(v.strip() for v in values[len(keys):]):
                yield RawRow(start, RowError(f"{len(values)} fields but the header has {len(keys)}"))
                continue
            values = values[: len(keys)]
        yield RawRow(start, {k: from_spreadsheet(v) for k, v in zip(keys, values, strict=False)})


def _unique_keys(header: list[str]) -> list[str]:
    keys: list[str] = []
    for raw in header:
        key = from_spreadsheet(raw.strip())
        name, number = key, 2
        while name in keys:
            name, number = f"{key} ({number})", number + 1
        keys.append(name)
    return keys


# --- plain text: one URL a line ------------------------------------------------------------------------

_URLISH = re.compile(r"^(https?://|feed:|itpc:|podcast:|r/|/r/|www\.|[a-z0-9-]+(\.[a-z0-9-]+)+(/|$))", re.I)


def _is_url_list(sample: str) -> bool:
    for line in sample.splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            return bool(_URLISH.match(text.split(None, 1)[0]))
    return True


def _read_txt(stream: IO[str]) -> Iterator[RawRow]:
    """What people paste: one URL a line, optionally followed by a name; `#` starts a comment line."""
    lines = _Lines(stream)
    for item in _iter_lines(lines):
        if isinstance(item, RowError):
            yield RawRow(lines.count, item)
            continue
        text = item.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split(None, 1)
        if not _URLISH.match(parts[0]):
            parts = [text]  # not a URL: the error names the whole line
        url = parts[0].strip(",;")
        name = parts[1].strip().lstrip("#-|,;").strip() if len(parts) > 1 else ""
        yield RawRow(lines.count, {"url": url, "name": name} if name else {"url": url})


def _iter_lines(lines: _Lines) -> Iterator[str | RowError]:
    while True:
        try:
            yield next(lines)
        except StopIteration:
            return
        except LineTooLong:
            yield RowError("line too long (the limit is 8 MB)")


# --- JSON Lines ----------------------------------------------------------------------------------------

def _read_jsonl(stream: IO[str]) -> Iterator[RawRow]:
    lines = _Lines(stream)
    for item in _iter_lines(lines):
        if isinstance(item, RowError):
            yield RawRow(lines.count, item)
            continue
        if not item.strip():
            continue
        yield RawRow(lines.count, _loads(item))


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        return RowError("invalid JSON: nested too deeply")
    except ValueError as exc:
        return RowError(f"invalid JSON: {exc}")


# --- a JSON list, streamed ------------------------------------------------------------------------------

class _JsonStream:
    """A JSON text read in chunks: values are decoded one at a time with the C decoder (`raw_decode`) on a
    sliding buffer, so a list of a million objects is never in memory at once and each value keeps the line it
    starts on. Measured against ijson in benchmarks/bench_import.py (ijson cannot say where a value starts)."""

    CHUNK = 1 << 16
    _WS = re.compile(r"[ \t\r\n]*")

    def __init__(self, stream: IO[str], max_item: int = MAX_ITEM) -> None:
        self.stream, self.max_item = stream, max_item
        self.buf, self.pos, self.eof = "", 0, False
        self.base_line, self.counted_to, self.counted_lines = 1, 0, 0
        self.decoder = json.JSONDecoder()

    def _fill(self, amount: int) -> bool:
        if self.eof:
            return False
        if self.pos > self.CHUNK:  # drop what was consumed, keeping the line count right
            self.base_line += self.buf.count("\n", 0, self.pos)
            self.buf, self.pos = self.buf[self.pos:], 0
            self.counted_to = self.counted_lines = 0
        data = self.stream.read(amount)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def line(self) -> int:
        if self.pos < self.counted_to:
            self.counted_to = self.counted_lines = 0
        self.counted_lines += self.buf.count("\n", self.counted_to, self.pos)
        self.counted_to = self.pos
        return self.base_line + self.counted_lines

    def peek(self) -> str:
        """The next non-whitespace character ('' at the end)."""
        while True:
            self.pos = self._WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill(self.CHUNK):
                return ""

    def advance(self) -> None:
        self.pos += 1

    def value(self) -> Any:
        """Decode the value at the cursor; RowError (the message, without a line) when it is not valid."""
        amount = self.CHUNK
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise RowError("invalid JSON: nested too deeply") from None
            except json.JSONDecodeError as exc:
                # Cut by the end of the buffer (or a string still open): read more. A real error sits earlier.
                incomplete = exc.msg.startswith("Unterminated string") or len(self.buf) - exc.pos < 32
                if incomplete and len(self.buf) - self.pos <= self.max_item and self._fill(amount):
                    amount = max(amount, len(self.buf) - self.pos)  # doubling: a big value is decoded O(log n) times
                    continue
                if incomplete and len(self.buf) - self.pos > self.max_item:
                    raise RowError(f"value too large (the limit is {self.max_item // (1 << 20)} MB)") from None
                raise RowError(f"invalid JSON: {exc.msg} ({self._where(exc.pos)})") from None
            # A number cut by the chunk boundary: read on and decode it whole.
            if end >= len(self.buf) and isinstance(value, (int, float)) and self._fill(self.CHUNK):
                continue
            self.pos = end
            return value

    def _where(self, pos: int) -> str:
        line = self.base_line + self.buf.count("\n", 0, pos)
        column = pos - (self.buf.rfind("\n", 0, pos) + 1) + 1
        return f"line {line} column {column}"


_COMMUNITY_LIST_KEYS = {"communities", "data", "results", "rows", "records", "entries", "feeds", "outlines"}


def _read_json(stream: IO[str]) -> Iterator[RawRow]:
    """A JSON list of objects (or an object holding one, or one object), each reported at the line it starts on."""
    js = _JsonStream(stream)
    first = js.peek()
    if first == "[":
        yield from _json_list(js)
        return
    if first != "{":
        raise RowError(f"line {js.line()}: expected a JSON list of communities")
    start = js.line()
    js.advance()
    obj: dict[str, Any] = {}
    while True:
        char = js.peek()
        if char == "}":
            yield RawRow(start, obj)  # one community, not a wrapper
            return
        if char == ",":
            js.advance()
            continue
        if char != '"':
            raise RowError(f"line {js.line()}: invalid JSON: expected a key in double quotes")
        try:
            key = js.value()
            if js.peek() != ":":
                raise RowError(f"invalid JSON: expected ':' after {key!r}")
            js.advance()
            if js.peek() == "[" and _holds_communities(js, key):
                yield from _json_list(js)
                return
            obj[key] = js.value()
        except RowError as exc:
            raise RowError(f"line {js.line()}: {exc}") from None


def _holds_communities(js: _JsonStream, key: str) -> bool:
    """Whether the list at the cursor is the file's list of communities (a list of objects under a key that is
    not a community field such as `emails`)."""
    if field_of(key) is not None:
        return False
    if column_key(key) in _COMMUNITY_LIST_KEYS:
        return True
    save = js.pos
    js.advance()
    is_objects = js.peek() == "{"
    js.pos = save
    return is_objects


def _json_list(js: _JsonStream) -> Iterator[RawRow]:
    opened = js.line()
    js.advance()  # the '['
    while True:
        char = js.peek()
        if char == "]":
            return
        if char == "":
            raise RowError(f"line {js.line()}: the JSON list opened on line {opened} is not closed")
        if char == ",":
            js.advance()
            continue
        line = js.line()
        try:
            value = js.value()
        except RowError as exc:
            yield RawRow(line, RowError(f"{exc}; the rest of the file was not read"))
            return
        yield RawRow(line, value)
        char = js.peek()
        if char not in (",", "]", ""):
            yield RawRow(js.line(), RowError("invalid JSON: expected ',' or ']' after a value; "
                                             "the rest of the file was not read"))
            return


# --- OPML ----------------------------------------------------------------------------------------------

_PODCAST_WORDS = re.compile(r"podcast|pocket ?casts|overcast|antennapod|castro|castbox|podcast addict|"
                            r"player\.fm|podverse|fountain|apple podcasts", re.I)


def is_podcast_host(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host_path = (parts.hostname or "") + parts.path
    return any(host_path == h or host_path.startswith(h) or ("." + h) in ("." + host_path)
               for h in PODCAST_HOSTS)


def _read_opml(raw: IO[bytes]) -> Iterator[RawRow]:
    """Outlines that name a feed or a site, streamed with lxml's iterparse (the tree is cleared as it goes).

    A community's URL is its site (``htmlUrl``) when the outline gives one, with the feed as ``feed_url``; the
    kind is `podcast` when the file is a podcast app's export (its title, an iTunes namespace), the outline
    sits in a category that says podcast, or the feed is on a podcast host; otherwise `blog`, as a default
    that a later, surer source may correct."""
    from lxml import etree

    podcast_file = False
    seen_root = False
    try:
        events = etree.iterparse(raw, events=("start", "end"), recover=True, resolve_entities=False,
                                 no_network=True, huge_tree=False, remove_comments=True)
        for event, element in events:
            tag = element.tag if isinstance(element.tag, str) else ""
            local = etree.QName(tag).localname.lower() if tag else ""
            if event == "start":
                if not seen_root:
                    seen_root = True
                    if local in ("rss", "feed", "rdf"):
                        raise RowError("line 1: an RSS/Atom feed, not an OPML list of feeds; add it with "
                                       "`recruiter scrape FEED_URL --save`")
                    if local == "html":
                        raise RowError("line 1: a web page, not an OPML list of feeds")
                    namespaces = " ".join(str(v) for v in (element.nsmap or {}).values())
                    if "itunes" in namespaces.lower() or "podcast" in namespaces.lower():
                        podcast_file = True
                continue
            if local == "title" and element.getparent() is not None \
                    and etree.QName(element.getparent()).localname.lower() == "head":
                if _PODCAST_WORDS.search(element.text or ""):
                    podcast_file = True
                continue
            if local != "outline":
                continue
            row = _outline_row(element, podcast_file)
            if row is not None:
                yield RawRow(element.sourceline or 0, row)
            if not len(element):
                element.clear(keep_tail=False)
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise RowError(f"line {exc.lineno or 1}: invalid OPML: {exc.msg}") from None
    if not seen_root:
        raise RowError("line 1: not an OPML or XML document")


def _outline_row(outline, podcast_file: bool) -> dict[str, Any] | None:
    attrs = {str(k).split("}")[-1]: v for k, v in outline.attrib.items()}
    lower = {k.lower(): v for k, v in attrs.items()}
    feed = (lower.get("xmlurl") or "").strip()
    site = (lower.get("htmlurl") or "").strip()
    plain = (lower.get("url") or "").strip()
    if not (feed or site or plain):
        return None  # a folder of outlines
    categories = [lower.get("category") or ""]
    parent = outline.getparent()
    while parent is not None and etree_local(parent) == "outline":
        categories.append(parent.get("text") or parent.get("title") or "")
        parent = parent.getparent()
    category = next((c for c in categories[1:] if c), None)
    name = lower.get("title") or lower.get("text") or ""
    outline_type = (lower.get("type") or "").lower()
    podcast = (
        outline_type in ("podcast", "audio")
        or podcast_file
        or any(_PODCAST_WORDS.search(c) for c in categories if c)
        or any("itunes" in str(k).lower() or k.lower() in ("overcastid", "podcastguid") for k in outline.attrib)
        or (feed and is_podcast_host(feed))
    )
    row: dict[str, Any] = {"url": feed or plain or site, "name": name,
                           "description": lower.get("description") or "", "language": lower.get("language")}
    if feed:
        row["feed_url"] = feed
    if site:
        row["site_url"] = site
    if podcast:
        row["kind"] = "podcast"
    else:
        row[KIND_GUESS_KEY] = "blog"
    if category and category != name:
        row["category"] = category
    return row


def etree_local(element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1].lower()


# --- XLSX ----------------------------------------------------------------------------------------------

def _read_xlsx(path: Path) -> Iterator[RawRow]:
    """The first sheet of a workbook, its first non-empty row the header; rows numbered as the spreadsheet
    numbers them. openpyxl's read-only mode streams the sheet's XML."""
    if not zipfile.is_zipfile(path):
        raise RowError("line 1: not an XLSX workbook (the file is not a zip archive); supported: "
                       + ", ".join(SUPPORTED))
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise RowError(f"line 1: not a readable XLSX workbook: {exc}") from None
    strings = sum(i.file_size for i in members if i.filename.lower().endswith("sharedstrings.xml"))
    if strings > MAX_SHARED_STRINGS:
        raise RowError(f"line 1: the workbook's text table is too large ({strings >> 20} MB); save it as CSV")
    for member in members:  # a zip bomb: a few KB that expand to gigabytes of XML
        if member.file_size > 64 << 20 and member.file_size > 200 * max(1, member.compress_size):
            raise RowError(f"line 1: {member.filename} expands {member.file_size // max(1, member.compress_size)}"
                           f" times; not read (save the sheet as CSV if it is genuine)")
    import warnings

    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            workbook = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # a hostile or broken zip can fail in many ways inside openpyxl: one line
        raise RowError(f"line 1: not a readable XLSX workbook ({type(exc).__name__}: {exc})"[:300]) from None
    try:
        if not workbook.worksheets:
            raise RowError("line 1: the workbook has no sheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # trust the rows present, not a declared size of a million empty rows
        keys: list[str] | None = None
        number = 0
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise RowError(f"line {number + 1}: unreadable sheet row ({type(exc).__name__})") from None
            number += 1
            cells = [_xlsx_value(v) for v in values]
            if not any(c.strip() if isinstance(c, str) else c is not None for c in cells):
                continue
            if keys is None:
                keys = _unique_keys([str(c) if c is not None else "" for c in cells])
                continue
            if any(isinstance(c, str) and len(c) > MAX_FIELD for c in cells):
                yield RawRow(number, RowError(_too_large(MAX_FIELD)))
                continue
            extra = cells[len(keys):]
            if any(c not in (None, "") for c in extra):
                yield RawRow(number, RowError(f"{len(keys) + len(extra)} columns but the header has {len(keys)}"))
                continue
            yield RawRow(number, {k: v for k, v in zip(keys, cells, strict=False) if k})
    finally:
        workbook.close()


def _xlsx_value(value: Any) -> Any:
    """Cells as the importer reads CSV text: whole floats as integers ("1200.0" followers are 1200), dates as
    ISO text, text with a spreadsheet's protective apostrophe removed."""
    from datetime import date, datetime, time

    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") if (value.hour, value.minute, value.second) != (0, 0, 0) \
            else value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, str):
        return from_spreadsheet(value)
    return value
