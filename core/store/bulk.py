"""Bulk writes for ingest: one compiled statement, plain tuples, the driver's executemany.

SQLAlchemy's executemany rebuilds a parameter dict per row; at ingest rates that costs
more than SQLite's own work. The column types' bind processors are still applied (once
looked up per column), so what lands is what the ORM would have written.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter

from sqlalchemy import Connection, DateTime, Table


def _binders(conn: Connection, table: Table, names: Sequence[str]) -> list:
    dialect = conn.dialect
    return [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]


def _marker(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


COPY_FROM = 50  # rows at once from which PostgreSQL gets them by COPY rather than INSERTs


def insert_many(conn: Connection, table: Table, rows: list[dict], names: Sequence[str]) -> None:
    """INSERT rows (dicts holding at least `names`) into table; on PostgreSQL a batch goes by
    COPY (psycopg's copy support, in the same transaction): one stream, no statement a row."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        with conn.connection.driver_connection.cursor() as cur, cur.copy(
                f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN") as copy:
            for values in _tuples(conn, table, rows, names):
                copy.write_row(values)
        return
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
           f"VALUES ({', '.join([_marker(conn)] * len(names))})")
    conn.exec_driver_sql(sql, _tuples(conn, table, rows, names))


def update_many(conn: Connection, table: Table, rows: list[dict], names: Sequence[str], key: str = "id") -> None:
    """UPDATE table SET names... WHERE key = row[key], for each row."""
    if not rows:
        return
    quote, mark = conn.dialect.identifier_preparer.quote, _marker(conn)
    sql = (f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(n)} = {mark}' for n in names)} "
           f"WHERE {quote(key)} = {mark}")
    conn.exec_driver_sql(sql, _tuples(conn, table, rows, [*names, key]))


def _tuples(conn: Connection, table: Table, rows: list[dict], names: Sequence[str]) -> list[tuple]:
    pick = itemgetter(*names) if len(names) > 1 else (lambda r, n=names[0]: (r[n],))
    convert = [(i, _remembering(b) if isinstance(table.c[names[i]].type, DateTime) else b)
               for i, b in enumerate(_binders(conn, table, names)) if b is not None]
    if not convert:
        return [pick(r) for r in rows]
    out = []
    for r in rows:
        values = list(pick(r))
        for i, b in convert:
            if values[i] is not None:
                values[i] = b(values[i])
        out.append(tuple(values))
    return out


def _remembering(bind: Callable) -> Callable:
    """A binder that converts each value once: a batch shares its arrival time, and a
    message's event time is mostly its MSH-7."""
    seen: dict = {}

    def convert(value):
        found = seen.get(value)
        if found is None:
            found = seen[value] = bind(value)
        return found
    return convert
