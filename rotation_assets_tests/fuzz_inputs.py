"""Hypothesis strategies for the fuzz suites (``test_fuzz_*.py``): valid inputs, the ways the same
content can be written differently, and the ways an input can be malformed.

Each malformed input comes with what its error must name (``Corruption.fragments``: the line,
the column, the value), so a property checks the message, not just the type. Bounded and
reproducible: ``examples(n)`` is the settings of a property (the profile in conftest.py fixes
the seed and drops the deadline).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st

from rotation_assets.sources.csv_prices import FILE_COLUMNS

# ROTATION_FUZZ_SCALE=20 (with HYPOTHESIS_PROFILE=explore) draws 20x as many examples.
SCALE = int(os.environ.get("ROTATION_FUZZ_SCALE", "1"))


def examples(n: int) -> settings:
    """The settings of a property drawing ``n`` examples (times ROTATION_FUZZ_SCALE)."""
    return settings(max_examples=n * SCALE)


# --- valid price files ------------------------------------------------------------------------

PRICE_COLUMNS = FILE_COLUMNS[1:]  # open, high, low, close, adj_close, volume
# What Yahoo's own CSV download writes as its header (same order as ours).
YAHOO_HEADER = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]


@dataclass(frozen=True)
class Bar:
    """One line of a price file, as text fields (volume may be empty, as for an index)."""

    date: dt.date
    open: str
    high: str
    low: str
    close: str
    adj_close: str
    volume: str

    def fields(self) -> list[str]:
        return [self.date.isoformat(), self.open, self.high, self.low, self.close,
                self.adj_close, self.volume]  # fmt: skip


# Prices with up to 4 decimals, 0.0001 .. 100,000, written as Python writes the float.
price_numbers = st.integers(1, 10**9).map(lambda n: n / 10**4)


@st.composite
def bars(draw, min_rows: int = 0, max_rows: int = 12) -> list[Bar]:
    """Valid bars on distinct dates, ascending: low <= open, close <= high, all > 0."""
    dates = draw(
        st.lists(
            st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
            min_size=min_rows,
            max_size=max_rows,
            unique=True,
        )
    )
    rows = []
    for date in sorted(dates):
        low, a, b, high = sorted(draw(st.lists(price_numbers, min_size=4, max_size=4)))
        opened, closed = draw(st.permutations([a, b]))
        volume = draw(st.one_of(st.just(""), st.integers(0, 10**10).map(str)))
        adj = draw(price_numbers)
        rows.append(Bar(date, repr(opened), repr(high), repr(low), repr(closed), repr(adj), volume))
    return rows


@dataclass(frozen=True)
class Layout:
    """How a price file is written: what the reader must treat as the same content."""

    bom: bool = False
    crlf: bool = False
    yahoo_header: bool = False
    row_order: tuple[int, ...] | None = None  # a permutation of the rows
    column_order: tuple[int, ...] | None = None  # a permutation of the 7 columns
    extra_columns: tuple[tuple[int, str, str], ...] = ()  # (position, name, value on each line)

    def describe(self) -> str:
        return ", ".join(
            name
            for name, on in [
                ("byte-order mark", self.bom),
                ("CRLF", self.crlf),
                ("Yahoo header", self.yahoo_header),
                ("rows out of order", self.row_order is not None),
                ("columns reordered", self.column_order is not None),
                (f"extra columns {[n for _, n, _ in self.extra_columns]}", self.extra_columns),
            ]
            if on
        )


def render_prices(rows: list[Bar], layout: Layout = Layout()) -> bytes:
    """The bytes of a price file holding ``rows`` written as ``layout`` says."""
    header = list(YAHOO_HEADER if layout.yahoo_header else FILE_COLUMNS)
    lines = [r.fields() for r in rows]
    if layout.row_order is not None:
        lines = [lines[i] for i in layout.row_order]
    if layout.column_order is not None:
        header = [header[i] for i in layout.column_order]
        lines = [[line[i] for i in layout.column_order] for line in lines]
    for position, name, value in layout.extra_columns:
        header.insert(min(position, len(header)), name)
        for line in lines:
            line.insert(min(position, len(line)), value)
    end = "\r\n" if layout.crlf else "\n"
    text = end.join(",".join(line) for line in [header, *lines]) + end
    return (b"\xef\xbb\xbf" if layout.bom else b"") + text.encode("utf-8")


# Names of columns the reader does not know: never one of ours once trimmed and lower-cased.
_KNOWN = {*FILE_COLUMNS, *(c.lower().replace(" ", "_") for c in YAHOO_HEADER)}
extra_column_names = st.text(
    st.characters(codec="utf-8", exclude_characters=',\r\n"\ufeff', exclude_categories=["Cs"]),
    min_size=0,
    max_size=12,
).filter(lambda name: "_".join(name.strip().lower().split()) not in _KNOWN)
extra_values = st.text(
    st.characters(codec="utf-8", exclude_characters=",\r\n\ufeff", exclude_categories=["Cs"]),
    max_size=10,
)


@st.composite
def layouts(draw, rows: int) -> Layout:
    """Any combination of the harmless ways to write a file of ``rows`` rows."""
    return Layout(
        bom=draw(st.booleans()),
        crlf=draw(st.booleans()),
        yahoo_header=draw(st.booleans()),
        row_order=draw(st.none() | st.permutations(range(rows)).map(tuple)),
        column_order=draw(st.none() | st.permutations(range(7)).map(tuple)),
        extra_columns=tuple(
            draw(
                st.lists(st.tuples(st.integers(0, 8), extra_column_names, extra_values), max_size=2)
            )
        ),
    )


# --- malformed price files --------------------------------------------------------------------


@dataclass(frozen=True)
class Corruption:
    """A malformed file and what its error must name; ``kind`` is its class in the README."""

    kind: str
    data: bytes
    fragments: tuple[str, ...] = field(default=())
    line: int | None = None  # the 1-based line the error must name, when it is known


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# A number as a price file writes it: optional sign, digits with an optional point, exponent.
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def is_iso_date(text: str, first: int = 1678, last: int = 2261) -> bool:
    """True for a zero-padded ISO date in the years ``first``..``last`` (the csv reader's)."""
    if not _ISO.fullmatch(text):
        return False
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return False
    return first <= day.year <= last


def is_number(text: str) -> bool:
    """True for a finite decimal number (what the csv reader must accept in a number field).
    Spaces and tabs around it are allowed: the value is the same (pandas' reader skips them)."""
    text = text.strip(" \t")
    return bool(_DECIMAL.fullmatch(text)) and math.isfinite(float(text))


# Text that stays inside one field: no comma, no line break.
field_chars = st.characters(
    codec="utf-8", exclude_characters=",\r\n\ufeff", exclude_categories=["Cs"]
)
date_like = st.one_of(
    st.text(field_chars, max_size=12),
    st.text(st.sampled_from("0123456789-/. T:"), min_size=6, max_size=12),
    # Zero-padded but impossible, or almost ISO.
    st.builds(
        lambda y, m, d, sep: f"{y:04d}{sep}{m:02d}{sep}{d:02d}",
        st.integers(0, 9999),
        st.integers(0, 19),
        st.integers(0, 39),
        st.sampled_from(["-", "/", "", "."]),
    ),
    st.builds(lambda d: f"{d.year}-{d.month}-{d.day}", st.dates()),  # not zero-padded
)
number_like = st.one_of(
    st.text(field_chars, min_size=1, max_size=10),
    st.text(st.sampled_from("0123456789.-+eE_ xXinfaINFA"), min_size=1, max_size=8),
    st.sampled_from(
        [
            "nan",
            "NaN",
            "inf",
            "-inf",
            "Infinity",
            "1e999",
            "-1e400",
            "NA",
            "null",
            "N/A",
            "#N/A",
            "1,5".replace(",", "."),
            "1.2.3",
            "--1",
            "0x10",
            "1_000",
            " 1.5",
            "1.5 ",
            '"1.5"',
            "\t1",
        ]
    ),  # fmt: skip
)


def _lines(rows: list[Bar]) -> list[str]:
    return [",".join(FILE_COLUMNS), *(",".join(r.fields()) for r in rows)]


def _join(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


PARSE_DEFECTS = (
    "missing column",
    "renamed column",
    "repeated column",
    "unparsable date",
    "unparsable number",
    "duplicate date",
    "empty file",
    "invalid UTF-8 bytes",
    "truncated line",
    "blank line",
    "control characters in a line",
)


def parse_bars(text: str) -> list[Bar]:
    """The rows of a canonical price file's text (as written by ``render_prices``)."""
    rows = []
    for line in text.splitlines()[1:]:
        day, *rest = line.split(",")
        rows.append(Bar(dt.date.fromisoformat(day), *rest))
    return rows


@st.composite
def corrupted_price_files(
    draw, rows_from: st.SearchStrategy[list[Bar]] | None = None
) -> Corruption:
    """A valid file (rows from ``rows_from``, at least 2) with one defect of a class the reader
    must refuse, naming where it is."""
    rows = draw(rows_from if rows_from is not None else bars(min_rows=2, max_rows=8))
    lines = _lines(rows)
    kind = draw(st.sampled_from(PARSE_DEFECTS))
    r = draw(st.integers(0, len(rows) - 1))  # the data row the defect is on (line r + 2)
    if kind == "missing column":
        c = draw(st.integers(0, 6))
        cells = [line.split(",") for line in lines]
        data = _join([",".join(x for i, x in enumerate(cs) if i != c) for cs in cells])
        return Corruption(kind, data, ("line 1", f"missing column(s) {FILE_COLUMNS[c]}"), 1)
    if kind == "renamed column":
        c = draw(st.integers(0, 6))
        name = draw(extra_column_names.filter(lambda n: n.strip() != ""))
        header = lines[0].split(",")
        header[c] = name
        data = _join([",".join(header), *lines[1:]])
        return Corruption(
            kind, data, ("line 1", f"missing column(s) {FILE_COLUMNS[c]}", repr(name)), 1
        )
    if kind == "repeated column":
        c, d = draw(st.lists(st.integers(0, 6), min_size=2, max_size=2, unique=True))
        header = lines[0].split(",")
        header[c] = header[d]
        data = _join([",".join(header), *lines[1:]])
        return Corruption(kind, data, ("line 1", f"repeated column(s) {FILE_COLUMNS[d]}"), 1)
    if kind == "unparsable date":
        text = draw(date_like.filter(lambda t: not is_iso_date(t)))
        cells = lines[r + 1].split(",")
        cells[0] = text
        lines[r + 1] = ",".join(cells)
        return Corruption(kind, _join(lines), ("date", repr(text)), r + 2)
    if kind == "unparsable number":
        c = draw(st.integers(1, 6))
        text = draw(number_like.filter(lambda t: not is_number(t) and t != ""))
        cells = lines[r + 1].split(",")
        cells[c] = text
        lines[r + 1] = ",".join(cells)
        return Corruption(kind, _join(lines), (FILE_COLUMNS[c], repr(text)), r + 2)
    if kind == "duplicate date":
        s = draw(st.integers(0, len(rows) - 1).filter(lambda s: s != r))
        first, later = min(r, s), max(r, s)
        cells = lines[later + 1].split(",")
        cells[0] = rows[first].date.isoformat()
        lines[later + 1] = ",".join(cells)
        return Corruption(
            kind, _join(lines), ("duplicate date", f"also on line {first + 2}"), later + 2
        )
    if kind == "empty file":
        data = draw(st.sampled_from([b"", b"\n", b"\r\n", b"\xef\xbb\xbf", b"  \n\n"]))
        return Corruption(kind, data, ("empty file",), 1)
    if kind == "invalid UTF-8 bytes":
        line = draw(st.integers(0, len(lines) - 1))
        at = draw(st.integers(0, len(lines[line])))
        junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\xfe\xff"]))
        text = lines[line]
        lines[line] = "\0"  # replaced by the bytes below
        before, after = _join(lines).split(b"\0")
        data = before + text[:at].encode() + junk + text[at:].encode() + after
        return Corruption(kind, data, ("not UTF-8",), line + 1)
    if kind == "truncated line":
        # Cut before the line's last comma: cutting inside the volume would leave a valid
        # (different) number that no reader could tell from the real one.
        text = lines[r + 1]
        cut = draw(st.integers(1, text.rindex(",")))
        lines[r + 1] = text[:cut]
        if draw(st.booleans()):  # the file ends there (a partial write)
            return Corruption(kind, _join(lines[: r + 2])[:-1], ("fields, expected 7",), r + 2)
        return Corruption(kind, _join(lines), ("fields, expected 7",), r + 2)
    if kind == "blank line":
        lines.insert(r + 1, draw(st.sampled_from(["", " ", "\t"])))
        return Corruption(kind, _join(lines), ("blank line",), r + 2)
    # Control characters spliced into a data line: a lone CR (old Mac line end), NUL, form feed,
    # vertical tab, a quote. Each must come out as an error naming the line, never a crash.
    junk = draw(st.text(st.sampled_from("\r\x00\x0b\x0c\x1c\x85\u2028\"'"), min_size=1, max_size=3))
    text = lines[r + 1]
    at = draw(st.integers(0, len(text)))
    if at == len(text) and set(junk) == {"\r"}:
        at = 0  # "\r" before the line end is a CRLF line end, which is fine
    lines[r + 1] = text[:at] + junk + text[at:]
    return Corruption(kind, _join(lines), (), r + 2)


AUDIT_DEFECTS = ("non-positive price", "high below low", "empty close")


@st.composite
def audit_defects(draw, rows: list[Bar]) -> tuple[str, bytes, Bar]:
    """A file the reader accepts but the audit before the write must refuse: a price <= 0,
    a high below the low, an empty close. Returns the kind, the bytes and the bad row."""
    kind = draw(st.sampled_from(AUDIT_DEFECTS))
    r = draw(st.integers(0, len(rows) - 1))
    row = rows[r]
    if kind == "non-positive price":
        column = draw(st.sampled_from(["open", "high", "low", "close", "adj_close"]))
        value = draw(st.sampled_from(["0", "-0.0", "-1.5", "-1e-9", "-123456"]))
        bad = Bar(**{**row.__dict__, column: value})
    elif kind == "high below low":
        low = float(row.low)
        bad = Bar(**{**row.__dict__, "high": repr(low * draw(st.floats(0.01, 0.99)))})
    else:
        bad = Bar(**{**row.__dict__, "close": ""})
    return kind, render_prices([*rows[:r], bad, *rows[r + 1 :]]), bad


def garbage_bytes() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, and valid-looking text with arbitrary pieces in it."""
    header = ",".join(FILE_COLUMNS).encode()
    return st.one_of(
        st.binary(max_size=200),
        st.builds(lambda b: header + b"\n" + b, st.binary(max_size=200)),
        st.builds(
            lambda t: (header.decode() + "\n" + t).encode("utf-8", "surrogatepass"),
            st.text(st.characters(exclude_categories=["Cs"]), max_size=200),
        ),
    )


# --- seed files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedText:
    """A seed as CSV records (header first) and how they are written out."""

    records: tuple[tuple[str, ...], ...]
    bom: bool = False
    crlf: bool = False
    quote_all: bool = False
    blank_before: frozenset[int] = frozenset()  # record indices preceded by a blank line

    def render(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(
            out,
            lineterminator="\r\n" if self.crlf else "\n",
            quoting=csv.QUOTE_ALL if self.quote_all else csv.QUOTE_MINIMAL,
        )
        for i, record in enumerate(self.records):
            if i in self.blank_before:
                out.write("\r\n" if self.crlf else "\n")
            writer.writerow(record)
        return (b"\xef\xbb\xbf" if self.bom else b"") + out.getvalue().encode("utf-8")

    def line_of(self, record: int) -> int:
        """The 1-based line record ``record`` starts on (quoted fields may span lines)."""
        line = 1
        for i, fields in enumerate(self.records[:record]):
            line += (i in self.blank_before) + 1 + sum(f.count("\n") for f in fields)
        return line + (record in self.blank_before)


def seed_records(path) -> tuple[tuple[str, ...], ...]:
    with open(path, newline="", encoding="utf-8") as f:
        return tuple(tuple(r) for r in csv.reader(f) if r)


@st.composite
def seed_layouts(draw, records: tuple[tuple[str, ...], ...]) -> SeedText:
    """The records written in any harmless way: BOM, CRLF, every field quoted, blank lines,
    rows out of order, an extra column, spaces around values."""
    header, rows = records[0], list(records[1:])
    rows = draw(st.permutations(rows))
    if draw(st.booleans()):  # an extra column, anywhere, with any text (quoted as needed)
        at = draw(st.integers(0, len(header)))
        name = draw(extra_column_names.filter(lambda n: n.strip() not in header))
        # Any text but a lone CR, which Python's csv writer leaves unquoted with "\n" line ends.
        values = draw(st.lists(st.text(max_size=8).map(_no_surrogates).map(
            lambda t: t.replace("\r", "")), min_size=len(rows), max_size=len(rows)))  # fmt: skip
        header = (*header[:at], name, *header[at:])
        rows = [(*r[:at], v, *r[at:]) for r, v in zip(rows, values, strict=True)]
    if draw(st.booleans()):
        rows = [tuple(f" {f} " if f else f for f in r) for r in rows]
    return SeedText(
        (tuple(header), *map(tuple, rows)),
        bom=draw(st.booleans()),
        crlf=draw(st.booleans()),
        quote_all=draw(st.booleans()),
        blank_before=frozenset(draw(st.sets(st.integers(1, len(rows) + 1), max_size=3))),
    )


def _no_surrogates(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class SeedDefect:
    """A malformed seed, the line its error must name, and fragments the message must hold."""

    kind: str
    data: bytes
    line: int | None
    fragments: tuple[str, ...]


SEED_DEFECTS = (
    "empty file",
    "invalid UTF-8 bytes",
    "missing column",
    "renamed column",
    "repeated column",
    "short line",
    "long line",
    "empty required field",
    "duplicate key",
    "unparsable date",
    "quote never closed",
)


@st.composite
def corrupted_seeds(
    draw,
    records: tuple[tuple[str, ...], ...],
    required: tuple[str, ...],
    key: tuple[str, ...],
    dates: tuple[str, ...],
    checks: dict[str, tuple[st.SearchStrategy[str], Callable[[str], tuple[str, ...]]]],
) -> SeedDefect:
    """A seed built from ``records`` with one defect: a generic one (SEED_DEFECTS) or one of
    ``checks`` (column -> (values that column refuses, the fragments its error names)).
    Blank lines may come before the defect: the line named must still be the right one."""
    header = records[0]
    rows = [list(r) for r in records[1:]]
    kinds = [k for k in SEED_DEFECTS if dates or k != "unparsable date"]
    kinds += [f"bad {c}" for c in checks]
    kind = draw(st.sampled_from(kinds))
    r = draw(st.integers(0, len(rows) - 1))
    blanks = frozenset(draw(st.sets(st.integers(1, len(rows)), max_size=2)))

    def done(hdr, rws, line_record: int | None, fragments: tuple[str, ...]) -> SeedDefect:
        text = SeedText((tuple(hdr), *map(tuple, rws)), blank_before=blanks)
        line = None if line_record is None else text.line_of(line_record)
        return SeedDefect(kind, text.render(), line, fragments)

    if kind == "empty file":
        data = draw(st.sampled_from([b"", b"\n", b"\xef\xbb\xbf", b"\r\n\r\n", b" \n"]))
        return SeedDefect(kind, data, 1, ("empty file",))
    if kind == "invalid UTF-8 bytes":
        text = SeedText((tuple(header), *map(tuple, rows)), blank_before=blanks)
        data = text.render()
        at = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from([b"\xff", b"\xc3(", b"\x80", b"\xed\xa0\x80"]))
        return SeedDefect(
            kind, data[:at] + junk + data[at:], data[:at].count(b"\n") + 1, ("not UTF-8",)
        )
    if kind in ("missing column", "renamed column"):
        c = header.index(draw(st.sampled_from(required)))
        if kind == "missing column":
            hdr = [h for i, h in enumerate(header) if i != c]
            rws = [[f for i, f in enumerate(row) if i != c] for row in rows]
        else:
            name = draw(extra_column_names.filter(lambda n: n.strip() not in header))
            hdr = [*header[:c], name, *header[c + 1 :]]
            rws = rows
        return done(hdr, rws, None, (f"missing columns ['{header[c]}']",))
    if kind == "repeated column":
        c = draw(st.integers(0, len(header) - 1))
        at = draw(st.integers(0, len(header)))
        hdr = [*header[:at], header[c], *header[at:]]
        rws = [[*row[:at], row[c], *row[at:]] for row in rows]
        return done(hdr, rws, 0, (f"repeated column(s) {header[c]}",))
    if kind == "short line":
        cut = draw(st.integers(1, len(header) - 1))
        rows[r] = rows[r][:cut]
        return done(header, rows, r + 1, (f"{cut} field(s), expected {len(header)}",))
    if kind == "long line":
        more = draw(st.lists(st.text(field_chars, max_size=5), min_size=1, max_size=3))
        rows[r] = [*rows[r], *more]
        n = len(header) + len(more)
        return done(header, rows, r + 1, (f"{n} field(s), expected {len(header)}",))
    if kind == "empty required field":
        column = draw(st.sampled_from(required))
        rows[r][header.index(column)] = draw(st.sampled_from(["", " ", "\t", "  \t "]))
        return done(header, rows, r + 1, (f"empty {column}",))
    if kind == "duplicate key":
        if len(rows) < 2:
            return draw(corrupted_seeds(records, required, key, dates, checks))
        s = draw(st.integers(0, len(rows) - 1).filter(lambda s: s != r))
        first, later = min(r, s), max(r, s)
        for column in key:
            rows[later][header.index(column)] = rows[first][header.index(column)]
        return done(header, rows, later + 1, ("duplicate",))
    if kind == "unparsable date":
        column = draw(st.sampled_from(dates))
        text = draw(date_like.filter(lambda t: t.strip() != "" and not is_iso_date(t.strip())))
        rows[r][header.index(column)] = text
        return done(header, rows, r + 1, (column, repr(text.strip()), "is not YYYY-MM-DD"))
    if kind == "quote never closed":
        # A last record that opens a quote and never closes it (a file cut mid-field).
        data = SeedText((tuple(header), *map(tuple, rows)), blank_before=blanks).render()
        tail = draw(st.text(field_chars, max_size=20)).replace('"', "")
        line = data.count(b"\n") + 1
        return SeedDefect(kind, data + b'"' + tail.encode(), line, ("not valid CSV",))
    column = kind.removeprefix("bad ")
    values, fragments = checks[column]
    value = draw(values)
    rows[r][header.index(column)] = value
    return done(header, rows, r + 1, fragments(value))


# --- Shiller's monthly file --------------------------------------------------------------------

SHILLER_COLUMNS = (
    "month", "sp500_price", "dividend_12m", "earnings_12m", "cpi", "gs10", "trailing_pe", "cape",
    "tr_cape",
)  # fmt: skip
# Any finite number as the sheet writes it, or empty (a value not yet published).
shiller_numbers = st.one_of(
    st.just(""),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.integers(-999, 99999).map(str),
)


@st.composite
def shiller_rows(draw, min_rows: int = 1, max_rows: int = 14) -> list[list[str]]:
    """Consecutive months from a random start, a positive price, other fields any number."""
    year, month = draw(st.integers(1700, 2200)), draw(st.integers(1, 12))
    rows = []
    for _ in range(draw(st.integers(min_rows, max_rows))):
        price = repr(draw(st.floats(0.01, 1e5)))
        rows.append([f"{year:04d}-{month:02d}", price, *(draw(shiller_numbers) for _ in range(7))])
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return rows


def render_shiller(header, rows, *, bom=False, crlf=False) -> bytes:
    end = "\r\n" if crlf else "\n"
    text = end.join(",".join(r) for r in [list(header), *rows]) + end
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


SHILLER_DEFECTS = (
    "missing column",
    "repeated column",
    "unparsable month",
    "unparsable number",
    "non-positive or empty price",
    "duplicate month",
    "skipped month",
    "short line",
    "long line",
    "empty file",
    "header only",
    "invalid UTF-8 bytes",
    "carriage return inside a line",
    "quote never closed",
)


@st.composite
def corrupted_shiller_files(draw) -> Corruption:
    """A valid Shiller file with one defect; the line and fragments its error must name."""
    rows = draw(shiller_rows(min_rows=3))
    header = list(SHILLER_COLUMNS)
    kind = draw(st.sampled_from(SHILLER_DEFECTS))
    r = draw(st.integers(0, len(rows) - 1))
    line = r + 2
    if kind == "missing column":
        c = draw(st.integers(0, 8))
        header.pop(c)
        rows = [row[:c] + row[c + 1 :] for row in rows]
        return Corruption(kind, render_shiller(header, rows), (SHILLER_COLUMNS[c],), 1)
    if kind == "repeated column":
        c = draw(st.integers(0, 8))
        header.append(SHILLER_COLUMNS[c])
        rows = [[*row, row[c]] for row in rows]
        fragment = f"repeated column(s) {SHILLER_COLUMNS[c]}"
        return Corruption(kind, render_shiller(header, rows), (fragment,), 1)
    if kind == "unparsable month":
        text = draw(
            st.one_of(
                st.text(field_chars, max_size=9),
                st.builds(
                    lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(0, 99)
                ),
                st.sampled_from(["１９９０-01", "1990-1", "1990/01", "1990-01-01", "0000-01"]),
            ).filter(lambda t: not _shiller_month(t.strip()))
        )
        rows[r][0] = text
        return Corruption(
            kind, render_shiller(header, rows), ("column month", repr(text.strip())), line
        )
    if kind == "unparsable number":
        c = draw(st.integers(1, 8))
        # No quote: the Shiller file is read as quoted CSV, where '"1"' is the number 1 and a
        # lone '"' is a quote never closed (its own corruption kind).
        text = draw(
            number_like.filter(
                lambda t: t.strip() != "" and not is_number(t.strip()) and '"' not in t
            )
        )
        rows[r][c] = text
        fragments = (f"column {SHILLER_COLUMNS[c]}", repr(text.strip()))
        return Corruption(kind, render_shiller(header, rows), fragments, line)
    if kind == "non-positive or empty price":
        rows[r][1] = draw(st.sampled_from(["0", "-1", "-0.0", "", "-1e-9"]))
        return Corruption(kind, render_shiller(header, rows), ("sp500_price",), line)
    if kind == "duplicate month":
        s = draw(st.integers(0, len(rows) - 1).filter(lambda s: s != r))
        rows[max(r, s)][0] = rows[min(r, s)][0]
        return Corruption(kind, render_shiller(header, rows), ("duplicate month",), max(r, s) + 2)
    if kind == "skipped month":
        gone = draw(st.integers(1, len(rows) - 2))
        rows.pop(gone)
        return Corruption(kind, render_shiller(header, rows), ("follows",), gone + 2)
    if kind == "short line":
        rows[r] = rows[r][: draw(st.integers(1, 8))]
        return Corruption(kind, render_shiller(header, rows), ("fields, expected 9",), line)
    if kind == "long line":
        rows[r] = [*rows[r], *draw(st.lists(shiller_numbers, min_size=1, max_size=2))]
        return Corruption(kind, render_shiller(header, rows), ("fields, expected 9",), line)
    if kind == "empty file":
        data = draw(st.sampled_from([b"", b"\n", b"\xef\xbb\xbf", b"\r\n \n"]))
        return Corruption(kind, data, ("empty file",), 1)
    if kind == "header only":
        return Corruption(kind, render_shiller(header, []), ("no monthly rows",), None)
    if kind == "invalid UTF-8 bytes":
        data = render_shiller(header, rows)
        at = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from([b"\xff", b"\xc3(", b"\x80", b"\xed\xa0\x80"]))
        return Corruption(
            kind, data[:at] + junk + data[at:], ("not UTF-8",), data[:at].count(b"\n") + 1
        )
    if kind == "carriage return inside a line":
        rows[r][draw(st.integers(0, 8))] += "\r" + draw(st.text("0123456789.", max_size=3))
        return Corruption(kind, render_shiller(header, rows), ("carriage return",), line)
    rows[r][draw(st.integers(0, 8))] = '"' + draw(st.text("0123456789.", max_size=3))
    return Corruption(kind, render_shiller(header, rows), ("not valid CSV",), line)


def _shiller_month(text: str) -> bool:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text, re.ASCII)
    return bool(match) and 1 <= int(match[2]) <= 12 and 1678 <= int(match[1]) <= 2261
