"""Writing generated households in bulk, with one '+' history row per object so history pages show
how every record came to be.

A writer works in two steps: `prepare(chunk)` is pure Python and runs in the generator's thread;
`write(prepared)` talks to the database in the caller's thread.

- `CopyWriter` (PostgreSQL): household ids reserved from the sequence up front, so rows are rendered
  as COPY text while the previous chunk loads; history rows are copied server-side with
  INSERT … SELECT, so Python never renders them.
- `OrmWriter` (SQLite demo and anything else): batched `bulk_create_with_history`.
"""

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Model
from simple_history.utils import bulk_create_with_history

from households.models import Expenditure, Household, IncomeItem, Member
from households.seeding.generate import HOUSEHOLD_COLUMNS, ITEM_COLUMNS, MEMBER_COLUMNS, GeneratedHousehold

HISTORY_COLUMNS = ("history_date", "history_change_reason", "history_type", "history_user_id")


@dataclass
class Counts:
    households: int = 0
    members: int = 0
    income_items: int = 0
    expenditures: int = 0

    def add(self, other: "Counts") -> None:
        self.households += other.households
        self.members += other.members
        self.income_items += other.income_items
        self.expenditures += other.expenditures


def _text(value) -> str:
    """A value in COPY text format. Generated values never contain tabs, newlines or backslashes."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


class _CopyTable:
    """One model's table as a COPY target, and the statement that copies its new rows to history."""

    def __init__(self, model: type[Model], columns: Sequence[str], *, with_id: bool):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        parent = [] if model is Household else ["household_id"]
        copied = [*(["id"] if with_id else []), "created_at", "updated_at", *parent, *columns]
        missing = [
            name
            for name, f in fields.items()
            if name not in copied and name != "id" and not (f.null or f.has_db_default())
        ]
        if missing:  # a new NOT NULL field would otherwise fail deep inside COPY
            raise RuntimeError(f"seeding does not fill {model.__name__} fields {missing}")
        table = model._meta.db_table
        self.copy_sql = f"COPY {table} ({', '.join(fields[a].column for a in copied)}) FROM STDIN"
        # history_date, history_change_reason, history_type '+' (created), history_user_id NULL.
        kept = {f.attname for f in model.history.model._meta.concrete_fields}  # history may exclude fields
        all_columns = ", ".join(f.column for f in fields.values() if f.attname in kept)
        scope = "id" if model is Household else "household_id"
        self.history_sql = (
            f"INSERT INTO {model.history.model._meta.db_table} ({all_columns}, {', '.join(HISTORY_COLUMNS)}) "
            f"SELECT {all_columns}, %s, %s, '+', NULL FROM {table} WHERE {scope} BETWEEN %s AND %s"
        )


@dataclass
class _PreparedChunk:
    first_household_id: int
    last_household_id: int
    texts: list[bytes]  # COPY text for households, members, income items, expenditures
    counts: Counts


class CopyWriter:
    def __init__(self, *, households: int, now: dt.datetime, change_reason: str):
        self.now = now
        self.change_reason = change_reason
        self.timestamp = now.isoformat()
        self.counts = Counts()
        self.tables = (
            _CopyTable(Household, HOUSEHOLD_COLUMNS, with_id=True),
            _CopyTable(Member, MEMBER_COLUMNS, with_id=False),
            _CopyTable(IncomeItem, ITEM_COLUMNS, with_id=False),
            _CopyTable(Expenditure, ITEM_COLUMNS, with_id=False),
        )
        table_names = ", ".join(m._meta.db_table for m in (Household, Member, IncomeItem, Expenditure))
        with connection.cursor() as cursor:
            # Other writers wait until we commit: nobody takes household ids between nextval and
            # setval, and the history copy sees only our rows.
            cursor.execute(f"LOCK TABLE {table_names} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Household._meta.db_table])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [sequence])
            self.next_household_id = cursor.fetchone()[0]
            if households > 1:
                cursor.execute("SELECT setval(%s, %s)", [sequence, self.next_household_id + households - 1])
            self.last_reserved_id = self.next_household_id + households - 1
            # Check foreign keys as each COPY ends, while the next chunk is being generated, rather
            # than all at commit, when nothing else can run.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def prepare(self, chunk: list[GeneratedHousehold]) -> _PreparedChunk:
        """Render a chunk as COPY text. Runs in the generator's thread: no database access."""
        ts = self.timestamp
        first = household_id = self.next_household_id
        if first + len(chunk) - 1 > self.last_reserved_id:
            raise RuntimeError("more households generated than ids reserved")
        households, members, incomes, expenditures = [], [], [], []
        for generated in chunk:
            households.append(f"{household_id}\t{ts}\t{ts}\t" + "\t".join(map(_text, generated.household)))
            prefix = f"{ts}\t{ts}\t{household_id}\t"
            members += [prefix + "\t".join(map(_text, row)) for row in generated.members]
            incomes += [f"{prefix}{y}\t{kind}\t{amount}\t{note}" for y, kind, amount, note in generated.incomes]
            expenditures += [
                f"{prefix}{y}\t{kind}\t{amount}\t{note}" for y, kind, amount, note in generated.expenditures
            ]
            household_id += 1
        self.next_household_id = household_id
        texts = [
            ("\n".join(lines) + "\n").encode() if lines else b""
            for lines in (households, members, incomes, expenditures)
        ]
        counts = Counts(len(households), len(members), len(incomes), len(expenditures))
        return _PreparedChunk(first, household_id - 1, texts, counts)

    def write(self, prepared: _PreparedChunk) -> None:
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the driver's cursor, for COPY
            for table, text in zip(self.tables, prepared.texts, strict=True):
                if text:
                    _copy(raw, table.copy_sql, text)
            for table in self.tables:
                cursor.execute(
                    table.history_sql,
                    [self.now, self.change_reason, prepared.first_household_id, prepared.last_household_id],
                )
        self.counts.add(prepared.counts)

    def finish(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's initially-deferred constraints


def _copy(raw_cursor, sql: str, text: bytes) -> None:
    if hasattr(raw_cursor, "copy_expert"):  # psycopg2
        raw_cursor.copy_expert(sql, io.BytesIO(text), size=1 << 20)
    else:  # psycopg 3
        with raw_cursor.copy(sql) as copy:
            copy.write(text)


class OrmWriter:
    def __init__(self, *, households: int, now: dt.datetime, change_reason: str, batch_size: int = 500):
        self.now = now
        self.change_reason = change_reason
        self.batch_size = batch_size
        self.counts = Counts()

    def prepare(self, chunk: list[GeneratedHousehold]) -> list[tuple[Household, list[Model], list[Model], list[Model]]]:
        """Build unsaved model instances. Runs in the generator's thread: no database access."""
        prepared = []
        for g in chunk:
            household = Household(**dict(zip(HOUSEHOLD_COLUMNS, g.household, strict=True)))
            members = [Member(household=household, **dict(zip(MEMBER_COLUMNS, r, strict=True))) for r in g.members]
            incomes = [IncomeItem(household=household, **dict(zip(ITEM_COLUMNS, r, strict=True))) for r in g.incomes]
            expenditures = [
                Expenditure(household=household, **dict(zip(ITEM_COLUMNS, r, strict=True))) for r in g.expenditures
            ]
            prepared.append((household, members, incomes, expenditures))
        return prepared

    def _create(self, model: type[Model], objects: list[Model]) -> None:
        if objects:
            bulk_create_with_history(
                objects,
                model,
                batch_size=self.batch_size,
                default_change_reason=self.change_reason,
                default_date=self.now,
            )

    def write(self, prepared: list[tuple[Household, list[Model], list[Model], list[Model]]]) -> None:
        households = [p[0] for p in prepared]
        self._create(Household, households)  # sets the primary keys the rows below point to
        members = [m for p in prepared for m in p[1]]
        incomes = [i for p in prepared for i in p[2]]
        expenditures = [e for p in prepared for e in p[3]]
        for model, objects in ((Member, members), (IncomeItem, incomes), (Expenditure, expenditures)):
            self._create(model, objects)
        self.counts.add(Counts(len(households), len(members), len(incomes), len(expenditures)))

    def finish(self) -> None:
        pass
