"""Storage faults (a full disk, an unwritable folder) told in one line, not a traceback.

DuckDB reports a full disk as an ``IOException`` whose text carries the OS message, and
Python as ``OSError(ENOSPC)``; both ingest and publishing recognise them here.
"""

from __future__ import annotations

import errno


def is_disk_full(exc: BaseException) -> bool:
    text = str(exc)
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left" in text


def storage_fault(exc: BaseException, writing: str, kept: str) -> str | None:
    """A one-line message for a full disk or an unwritable path, else None.

    ``writing`` names what was being written, ``kept`` says what survives the fault."""
    if is_disk_full(exc):
        return f"disk full while writing {writing}; free space and rerun ({kept})"
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EROFS):
        return f"cannot write: {exc.strerror}: {exc.filename}"
    return None
