"""An engine configured in a store against a loopback engine (core.engines.loopback)."""
from __future__ import annotations

from sqlalchemy import select

from core.commands.context import Context
from core.commands.engines import ConfigureEngine
from core.store import engines
from core.store.models import EngineMessage

PASSWORD = "s3cret-engine-pass"


def add_engine(store, server, name: str = "mirth", **settings) -> dict:
    """Configure `server` (its password set to PASSWORD) as engine `name`; returns its row."""
    server.password = PASSWORD
    ConfigureEngine(Context(store)).run(name, password=PASSWORD, url=server.url, username="admin",
                                        **{"rate": 0, **settings})
    return engines.get(store, name)


def stored_keys(store) -> list[tuple]:
    """(channel UUID, engine message id, connector, role) of every stored engine content, sorted."""
    with store.read() as conn:
        return sorted((r["channel_uuid"], r["engine_message_id"], r["meta_data_id"], r["role"])
                      for r in engines.keys_of(conn, _all_ids(conn)).values())


def _all_ids(conn) -> list[int]:
    return list(conn.execute(select(EngineMessage.message_id)).scalars())
