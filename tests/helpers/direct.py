"""Direct messages, MDNs and DSNs as a HISP writes them: the demo's builders (core.demo_direct)."""
from core.demo_direct import dsn, mdn, message
from core.demo_direct import mbox as _mbox


def mbox(*mails: bytes) -> bytes:
    from datetime import datetime

    return _mbox([(datetime(2026, 12, 1, 9, 0), m) for m in mails])




def demo_traffic(store, folder, now):
    """The demo's Direct traffic (core.demo_direct), ingested as at `now`."""
    from core import demo_direct
    from core.ingest import Ingestor

    Ingestor(store, now=lambda: now).ingest_paths([demo_direct.write(folder / "direct", now=now).parent])


__all__ = ["demo_traffic", "dsn", "mbox", "mdn", "message"]
