"""Direct messages, MDNs and DSNs as a HISP writes them: the demo's builders (core.demo_direct)."""
from core.demo_direct import dsn, mdn, message
from core.demo_direct import mbox as _mbox


def mbox(*mails: bytes) -> bytes:
    from datetime import datetime

    return _mbox([(datetime(2026, 12, 1, 9, 0), m) for m in mails])


__all__ = ["dsn", "mbox", "mdn", "message"]
