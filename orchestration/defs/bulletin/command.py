"""``pingan report``: write the monthly bulletin (月度通报) or its quarterly edition
(季度通报) as PDF from the published snapshot."""

from __future__ import annotations

import sys
from pathlib import Path

from orchestration.defs.notices.command import quiet_streamlit


def run_report(month: str | None, quarter: str | None, out: str | None = None) -> int:
    quiet_streamlit()
    from dashboards.data import SnapshotMissing
    from dashboards.documents.bulletin import BulletinError, Period
    from dashboards.documents.bulletin_write import write_bulletin
    from dashboards.documents.pdf_notice import FontMissing

    try:
        period = Period.parse(month=month, quarter=quarter)
        result = write_bulletin(
            period, Path(out) if out else None, progress=lambda m: print(m, file=sys.stderr)
        )
    except (BulletinError, SnapshotMissing, FontMissing) as exc:
        print(f"pingan report: {exc}", file=sys.stderr)
        return 2
    print(f"{period.code}: {result.bulletin.title} in {result.path} ({result.seconds:.1f} s)")
    return 0
