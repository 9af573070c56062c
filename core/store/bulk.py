"""Bulk writes for ingest: one compiled statement, plain tuples, the driver's executemany.

SQLAlchemy's executemany rebuilds a parameter dict per row; at ingest rates that costs
more than SQLite's own work. The column types' bind processors are still applied (once
looked up per column), so what lands is what the ORM would have written.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table


def _binders(conn: Connection, table: Table, names: Sequence[str]) -> list:
    dialect = conn.dialect
    return [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]


def _marker(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def insert_many(conn: Connection, table: Table, rows: list[dict], names: Sequence[str]) -> None:
    """INSERT rows (dicts holding at least `names`) into table."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
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
    steps = list(zip(names, _binders(conn, table, names)))
    return [tuple(r[n] if b is None or r[n] is None else b(r[n]) for n, b in steps) for r in rows]
