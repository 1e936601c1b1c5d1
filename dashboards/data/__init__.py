"""The one layer that knows SQL: every page reads the warehouse through these functions.

* Reads only the published snapshot (``settings.published_warehouse``), opened
  read-only. A publish replaces the file atomically (``os.replace``), so the
  file's identity (inode, mtime, size) is the snapshot version: connections and
  cached results are keyed by it and a new publish is picked up on the next
  query, never mixed with the old one.
* Queries are constant strings with ``?`` placeholders; widget values only ever
  travel as parameters. The few identifiers chosen at run time (a breakdown
  column, a table found in ``information_schema``) come from whitelists in
  these modules, never from a widget.
* Row-level access: every query over district rows takes a :class:`Scope`; a
  district officer's scope adds ``district = ?`` to the query itself, so no
  widget or URL parameter can reach another district's rows.
* Results are cached per (snapshot version, SQL, parameters) with
  ``st.cache_data``; pages get pandas DataFrames (what Streamlit renders).

Split by domain: :mod:`.snapshot` (scope, plumbing, calendar), :mod:`.index`,
:mod:`.completion`, :mod:`.leads`, :mod:`.alerts`, :mod:`.quality`, :mod:`.bulletin`;
pages import the package (``from dashboards import data``) and call its names.
"""

from dashboards.data.snapshot import (  # noqa: F401
    AccessDenied,
    CITY_WIDE_FIGURES,
    CONFIG_FILE,
    IN_SCOPE,
    LEVELS,
    STREAMS,
    Scope,
    SnapshotMissing,
    _cached_query,
    _columns,
    _connection,
    _connections,
    _freeze,
    _list,
    _lock,
    _require_city_wide,
    _schema_tables,
    _tables,
    _thaw,
    alert_months,
    as_of,
    city_wide,
    completion_months,
    config,
    districts,
    in_scope,
    index_months,
    now_local,
    publication,
    published_city_wide,
    query,
    settings,
    snapshot_key,
    streets,
    table,
)
from dashboards.data.index import (  # noqa: F401
    _CENTROIDS,
    headline_index,
    index_sensitivity,
    index_units,
    unit_components,
    unit_trend,
)
from dashboards.data.completion import (  # noqa: F401
    BREAKDOWNS,
    _OVERDUE,
    _RATE_SUMS,
    _area,
    completion_breakdown,
    completion_by_stream,
    completion_period_by_stream,
    overdue_items,
)
from dashboards.data.leads import (  # noqa: F401
    HOTSPOTS_SHOWN,
    LEAD_STATUSES,
    LINKED,
    _SCOPED_LEADS,
    _scoped_leads_params,
    expected_confirmations,
    hotspots,
    lead,
    lead_backtest,
    lead_contributions,
    lead_count,
    lead_model,
    lead_records,
    lead_summary,
    leads,
    leads_for_export,
    rental_check_exceptions,
)
from dashboards.data.alerts import (  # noqa: F401
    SEVERITIES,
    alert_indicators,
    alerts,
)
from dashboards.data.quality import (  # noqa: F401
    _LATEST_RUN,
    _SYSTEM_OF,
    _require_quality,
    check_details,
    check_failures,
    check_summary,
    load_ledger,
    quality_results,
    quality_tables,
    rejected_rows,
    rejection_reasons,
    row_warnings,
    source_freshness,
)
