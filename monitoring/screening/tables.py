"""Table recognition for department files (one table-reading layer): where the header is, what each
column is, which rows are not data.

A county office's export is not fpr's template: a title line or a merged title row above the header,
a group header merged over sub-headers (`费用情况` over `总费用（元）`/`个人自付（元）`), its own column
names (`保障类别`, `公民身份号码`), blank rows and a `合计`/`制表人` footer. `detect_header` looks at the
first HEADER_SCAN_ROWS rows only (bounded work for any file) and returns the layout a preview can
show: the header row, the joined column names, the mapping file column → fpr column, the unmapped
columns. Per data row nothing here runs unless the row already failed its check: `skipped_kind` then
tells a blank or footer row (counted, not rejected) from a wrong one.
"""

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from monitoring.screening.departments import Source

HEADER_SCAN_ROWS = 30  # rows read to find the header; a title block is never longer
MAX_SCAN_COLUMNS = 200
# The first cell of a footer row starts with one of these (after spaces are removed).
FOOTER_WORDS = (
    "合计",
    "总计",
    "小计",
    "累计",
    "共计",
    "说明",
    "备注",
    "注:",
    "注：",
    "制表",
    "填表",
    "审核",
    "填报",
    "负责人",
    "联系电话",
)
_UNIT = re.compile(r"[(（]\s*(?:元|人民币元|单位[:：]?元)\s*[)）]")
_DROP = re.compile(r"[\s*＊:：()（）\[\]【】]")


def cell_text(value) -> str:
    """A header or footer cell as text (a number as Excel shows it)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def normal_name(text: str) -> str:
    """A column name as compared: full-width folded (NFKC), no spaces, no unit "（元）", no brackets,
    colons or the required-column star."""
    text = unicodedata.normalize("NFKC", text.lstrip("\ufeff"))
    return _DROP.sub("", _UNIT.sub("", text))


def normal_value(text: str) -> str:
    """A choice value as compared when it is not spelled exactly: full-width folded, no spaces."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


def alias_lookup(source: Source) -> dict[str, str]:
    """Normalised header spelling → column key, for every label and alias of the source."""
    lookup: dict[str, str] = {}
    for column in source.columns:
        for name in column.headers:
            lookup.setdefault(normal_name(name), column.key)
    return lookup


def column_positions(
    source: Source,
    names: Sequence[str],
    lookup: dict[str, str] | None = None,
    preferred: dict[str, str] | None = None,
) -> dict[str, int]:
    """Column key → position of the first file column whose name (joined, or its last part after "/")
    is the column's label or one of its aliases. `preferred` (normalised name → key: a saved mapping)
    is looked at first: a column named as the uploader mapped it wins over a built-in alias, and a file
    column is given to one key only."""
    lookup = alias_lookup(source) if lookup is None else lookup
    positions: dict[str, int] = {}
    for table in (preferred, lookup):
        if not table:
            continue
        taken = set(positions.values())
        for i, name in enumerate(names):
            if not name or i in taken:
                continue
            key = table.get(normal_name(name))
            if key is None and "/" in name:
                key = table.get(normal_name(name.rsplit("/", 1)[1]))
            if key is not None and key not in positions:
                positions[key] = i
                taken.add(i)
    return positions


def preferred_names(mapping: dict[str, str] | None) -> dict[str, str]:
    """A saved mapping (column key → file column name) as a lookup: normalised name → key."""
    return {normal_name(name): key for key, name in (mapping or {}).items() if name}


def join_header_rows(upper: Sequence[str], lower: Sequence[str]) -> list[str]:
    """Two header rows as one: a group header (merged across columns, so only its first cell holds
    text) is put before each sub-header under it: `费用情况/个人自付（元）`; a column merged down the two
    rows keeps its one name."""
    names, group = [], ""
    for j in range(max(len(upper), len(lower))):
        top = upper[j] if j < len(upper) else ""
        sub = lower[j] if j < len(lower) else ""
        if top:
            group = top if sub else ""
            names.append(f"{top}/{sub}" if sub else top)
        else:
            names.append(f"{group}/{sub}" if group and sub else sub)
    return names


@dataclass
class TableLayout:
    """Where the header is and what the columns are. Row indexes are 0-based in the rows read."""

    found: bool  # every required column was recognised
    header_index: int  # the (last) header row; the data start on the next row
    header_rows: int  # 1, or 2 for a group header over sub-headers
    names: list[str]  # the column names, two header rows joined
    mapping: dict[str, int]  # fpr column key → file column position
    unmapped: list[str] = field(default_factory=list)  # file columns that are no fpr column
    title_rows: int = 0  # non-blank rows above the header
    blank_rows: int = 0  # blank rows above the header

    @property
    def first_data_row(self) -> int:
        """The spreadsheet number (1-based) of the first row after the header."""
        return self.header_index + 2

    def with_mapping(self, mapping: dict[str, int]) -> "TableLayout":
        """The same header with the uploader's mapping (upload_start)."""
        mapped = set(mapping.values())
        unmapped = [name for i, name in enumerate(self.names) if name and i not in mapped]
        return replace(self, mapping=mapping, unmapped=unmapped)

    def as_json(self) -> dict:
        return {
            "header_row": self.header_index + 1,
            "header_rows": self.header_rows,
            "mapping": self.mapping,
            "unmapped": self.unmapped,
            "title_rows": self.title_rows,
            "blank_rows": self.blank_rows,
        }


def header_texts(head: Sequence[Sequence]) -> list[list[str]]:
    """The first rows of a file as header text (bounded: HEADER_SCAN_ROWS rows, MAX_SCAN_COLUMNS cells)."""
    return [[cell_text(v) for v in row[:MAX_SCAN_COLUMNS]] for row in head[:HEADER_SCAN_ROWS]]


def detect_header(head: Sequence[Sequence], source: Source, saved: dict[str, str] | None = None) -> TableLayout:
    """The header among the first rows of a file (`head`, at most HEADER_SCAN_ROWS of them): the first
    row — or pair of rows, group header over sub-headers — whose names give every required column of
    the source (names of a `saved` mapping first, then the built-in aliases). Rows above it are title
    rows. When none does, `found` is False and the layout is the row that gave the most columns, and
    among those the fullest (so a one-cell title row is never taken for the header): for the message,
    and for the mapping form to start from."""
    lookup = alias_lookup(source)
    preferred = preferred_names(saved)
    required = {c.key for c in source.required_columns}
    texts = header_texts(head)
    best: TableLayout | None = None
    best_rank = (-1, -1)
    for i, cells in enumerate(texts):
        if not any(cells):
            continue
        single = column_positions(source, cells, lookup, preferred)
        if i + 1 < len(texts):
            below = texts[i + 1]
            joined = join_header_rows(cells, below)
            both = column_positions(source, joined, lookup, preferred)
            id_at = both.get("id_number")
            # A second header row maps more columns and is no data row (nothing under the ID column).
            if (
                required <= both.keys()
                and len(both) > len(single)
                and id_at is not None
                and not (below[id_at] if id_at < len(below) else "")
            ):
                return _layout(texts, i + 1, 2, joined, both, True)
        if required <= single.keys():
            return _layout(texts, i, 1, cells, single, True)
        rank = (len(single), sum(1 for cell in cells if cell))
        if rank > best_rank:
            best, best_rank = _layout(texts, i, 1, cells, single, False), rank
    return best or TableLayout(False, 0, 1, [], {})


def layout_at(
    head: Sequence[Sequence], source: Source, header_row: int, header_rows: int = 1, saved: dict | None = None
) -> TableLayout:
    """The layout with the header where the uploader says it is: `header_row` (1-based, the last header
    row) and `header_rows` (2: the row above is a group header joined over it)."""
    texts = header_texts(head)
    index = min(max(header_row - 1, 0), max(len(texts) - 1, 0))
    header_rows = 2 if header_rows == 2 and index > 0 else 1
    cells = texts[index] if texts else []
    names = join_header_rows(texts[index - 1], cells) if header_rows == 2 else cells
    mapping = column_positions(source, names, preferred=preferred_names(saved))
    required = {c.key for c in source.required_columns}
    return _layout(texts, index, header_rows, names, mapping, required <= mapping.keys())


def _layout(texts, index: int, header_rows: int, names: list[str], mapping: dict, found: bool) -> TableLayout:
    above = texts[: index - header_rows + 1]
    mapped = set(mapping.values())
    return TableLayout(
        found=found,
        header_index=index,
        header_rows=header_rows,
        names=names,
        mapping=mapping,
        unmapped=[name for i, name in enumerate(names) if name and i not in mapped],
        title_rows=sum(1 for cells in above if any(cells)),
        blank_rows=sum(1 for cells in above if not any(cells)),
    )


def skipped_kind(row: Sequence) -> str:
    """ "blank" for a row of empty cells, "footer" for a totals/notes/signature row (`合计`, `说明：…`,
    `制表人：…`), else "". Asked only of rows that failed their check, so valid rows pay nothing."""
    seen = 0
    for value in row:
        text = cell_text(value)
        if not text:
            continue
        if re.sub(r"\s", "", text).startswith(FOOTER_WORDS):
            return "footer"
        seen += 1
        if seen == 2:  # a 序号 cell may come first; a footer word further right is data
            return ""
    return "" if seen else "blank"
