"""``pingan notices``: write a month's notices (提示单) from the published snapshot."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def quiet_streamlit() -> None:
    """Outside a Streamlit server the data layer's st.cache_data caches in memory, which
    is what a batch wants; its "No runtime found" warning on every call is noise here
    (Streamlit resets logger levels, so the logger is disabled instead)."""
    import streamlit.runtime.caching.cache_data_api  # noqa: F401

    logging.getLogger("streamlit.runtime.caching.cache_data_api").disabled = True


def run_notices(month: str, out: str | None = None) -> int:
    quiet_streamlit()
    from dashboards.data import SnapshotMissing
    from dashboards.documents import write_notices
    from dashboards.documents.pdf_notice import FontMissing

    try:
        result = write_notices(
            month, Path(out) if out else None, progress=lambda m: print(m, file=sys.stderr)
        )
    except (ValueError, SnapshotMissing, FontMissing) as exc:
        print(f"pingan notices: {exc}", file=sys.stderr)
        return 2
    if not result.notices:
        print(f"{month}: no notices (no unit had a worsening alert that month)")
        return 0
    print(
        f"{month}: {len(result.notices)} notices, {len(result.files)} files "
        f"in {result.out_dir} ({result.seconds:.1f} s)"
    )
    return 0
