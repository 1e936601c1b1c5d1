"""Write a bulletin (月度/季度通报) PDF: the one path of ``pingan report``, the Dagster
asset and the tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from contracts.settings import Settings
from dashboards.data import settings as data_settings
from dashboards.documents.bulletin import Bulletin, Period, load_bulletin
from dashboards.documents.pdf_bulletin import render_bulletin
from dashboards.documents.write import _atomic_write, reading


@dataclass
class WrittenBulletin:
    period: Period
    path: Path
    bulletin: Bulletin
    seconds: float = 0.0


def default_out_dir(settings: Settings) -> Path:
    """Where bulletins go by default: ``$PINGAN_DATA_DIR/bulletins``."""
    return settings.data_dir / "bulletins"


def file_name(period: Period) -> str:
    """``2026-10_月度通报.pdf`` / ``2026-Q3_季度通报.pdf`` (sorts by period)."""
    return f"{period.code}_{period.edition}.pdf"


def latest_period(kind: str = "month", settings: Settings | None = None) -> Period | None:
    """The newest month with an index, or the newest quarter whose three months all have
    one; None when the snapshot has none."""
    from dashboards.documents.bulletin import available_months

    with reading(settings):
        months = available_months()
    if not months:
        return None
    if kind == "month":
        return Period.parse(month=months[-1])
    for month in reversed(months):
        year, mon = int(month[:4]), int(month[5:])
        if mon % 3 == 0:
            period = Period.parse(quarter=f"{year}-Q{mon // 3}")
            if all(m in months for m in period.months):
                return period
    return None


def write_bulletin(
    period: Period,
    out_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    settings: Settings | None = None,
) -> WrittenBulletin:
    """Render the bulletin of ``period`` from the published snapshot into
    ``out_dir/<period>_<edition>.pdf`` (replaced whole on a rerun). Raises
    ``BulletinError`` when the snapshot does not cover the period. ``settings``
    selects the snapshot (default: the ``PINGAN_*`` environment's)."""
    t0 = time.perf_counter()
    say = progress or (lambda _m: None)
    with reading(settings):
        bulletin = load_bulletin(period)
        out_dir = Path(out_dir) if out_dir else default_out_dir(data_settings())
    if bulletin.map_note:  # no maps, or polygons left out: the operator should know why
        say(f"{period.code}: {bulletin.map_note}")
    say(f"{period.code}: figures read, rendering charts and PDF")
    payload = render_bulletin(bulletin)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / file_name(period)
    _atomic_write(path, payload)
    return WrittenBulletin(period, path, bulletin, time.perf_counter() - t0)
