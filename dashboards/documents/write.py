"""Write a month's notices (.docx and .pdf) into a folder: the one path of every caller."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from contracts.settings import Settings
from dashboards.data import notices as data_notices
from dashboards.data import settings as data_settings
from dashboards.documents.content import load_notices
from dashboards.documents.docx_notice import render_docx
from dashboards.documents.pdf_notice import render_pdf

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class WrittenNotices:
    month: str
    out_dir: Path
    notices: list[str] = field(default_factory=list)  # notice ids, in number order
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def _atomic_write(path: Path, payload: bytes) -> None:
    # A rerun replaces a notice's files whole; a crash never leaves half a document.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def default_out_dir(settings: Settings, month: str) -> Path:
    """Where a month's notices go by default: ``$PINGAN_DATA_DIR/notices/YYYY-MM``."""
    return settings.data_dir / "notices" / month


@contextlib.contextmanager
def reading(settings: Settings | None) -> Iterator[None]:
    """Read the snapshot of ``settings`` (the data-access layer reads the environment's)."""
    if settings is None:
        yield
        return
    values = {"PINGAN_DATA_DIR": str(settings.data_dir), "PINGAN_DB": str(settings.warehouse)}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def latest_month(settings: Settings | None = None) -> str | None:
    """The newest month with notices in the snapshot (None when there are none)."""
    with reading(settings):
        if not data_notices.available():
            return None
        months = data_notices.notice_months(data_notices.FULL_SCOPE)
    return months[-1] if months else None


def write_notices(
    month: str,
    out_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    settings: Settings | None = None,
) -> WrittenNotices:
    """Render every notice of ``month`` (YYYY-MM) from the published snapshot into
    ``out_dir`` as ``<year>-<number>_<unit>.docx`` and ``.pdf``. Raises ``ValueError``
    on a bad month. Files of notices no longer issued are left alone (a notice, once
    sent, is a record); a rerun on the same snapshot gives the same numbers and files.
    ``settings`` selects the snapshot (default: the ``PINGAN_*`` environment's)."""
    if not MONTH.match(month or ""):
        raise ValueError(f"bad month {month!r}: expected YYYY-MM, e.g. 2026-10")
    t0 = time.perf_counter()
    say = progress or (lambda _m: None)
    with reading(settings):
        notices = load_notices(month)
        out_dir = Path(out_dir) if out_dir else default_out_dir(data_settings(), month)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = WrittenNotices(month=month, out_dir=out_dir)
    for i, notice in enumerate(notices, start=1):
        for suffix, render in ((".docx", render_docx), (".pdf", render_pdf)):
            path = out_dir / f"{notice.file_stem}{suffix}"
            _atomic_write(path, render(notice))
            result.files.append(path)
        result.notices.append(notice.notice_id)
        if i % 20 == 0:
            say(f"  {i}/{len(notices)} notices written")
    result.seconds = time.perf_counter() - t0
    return result
