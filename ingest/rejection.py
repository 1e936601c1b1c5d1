"""The one exception a reader raises for a file that cannot be loaded as a whole."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported at run time: the reader worker starts before polars loads
    import polars as pl


class FileRejected(Exception):
    """The whole file cannot be loaded; ``reason`` is one line a user can act on."""

    def __init__(self, reason: str, rows: pl.DataFrame | None = None, entity: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.rows = rows  # records that were read before the file was rejected
        self.entity = entity

    def __reduce__(self):  # pickled whole across the reader worker's pipe
        return (FileRejected, (self.reason, self.rows, self.entity))
