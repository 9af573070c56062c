"""How core reports progress without knowing who listens (DESIGN.md convention 3).

The CLI installs a terminal bar, the console a Qt bridge; core only calls these methods.
"""
from __future__ import annotations


class Progress:
    """The do-nothing reporter; subclasses override what they show."""

    def started(self, total_bytes: int) -> None:
        pass

    def advanced(self, nbytes: int, messages: int) -> None:
        pass

    def problem(self, text: str) -> None:
        """Something a person should know that did not stop the work (no PHI in it)."""

    def finished(self) -> None:
        pass
