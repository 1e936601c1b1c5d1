"""Shared page furniture: login gate, page frame, charts, tables, maps.

Every chart goes through :func:`line_chart` / :func:`bar_chart` / :func:`point_map`,
which put the title, the unit and the period in the chart's title and say so in
words when the period has no data, instead of drawing an empty frame.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from dashboards import access_log, auth, charts, data, fmt, sessions
from dashboards.auth import User

# Column kinds of display tables: how a value is shown.
PCT, COUNT, SCORE, NUM, TEXT, TIME, DAY, MONTH, SIGNED, FLAG = (
    "pct",
    "count",
    "score",
    "num",
    "text",
    "time",
    "day",
    "month",
    "signed",
    "flag",
)


# ---------------------------------------------------------------- access


REFUSED_SESSION = {
    "session_expired": "登录已超时，请重新登录。",
    "session_rebound": "本会话不属于当前浏览器，请重新登录。",
}


def browser_id() -> str | None:
    """This browser's id from the HttpOnly cookie the gate set (None without the gate,
    e.g. in AppTest; the served app's websocket is refused without it)."""
    cookie = st.context.cookies.get(sessions.COOKIE)
    return sessions.browser_of(cookie if isinstance(cookie, str) else None)


def client_address() -> str | None:
    """The client's address as the server saw it (None where there is none)."""
    address = st.context.ip_address
    return address if isinstance(address, str) else None


def current_user() -> User | None:
    """The logged-in user of this run, checked afresh on every run: a live login token,
    presented by the browser that logged in, not idle too long, and a user the users
    file still has (a removed or moved user loses or changes access at once)."""
    token = st.session_state.get(auth.SESSION_KEY)
    if not token:
        return None
    try:
        username = sessions.resume(str(token), browser_id(), auth.login_policy().idle_seconds)
        user = auth.lookup(username) if username else None
    except sessions.Refused as exc:
        st.session_state.pop(auth.SESSION_KEY, None)
        access_log.record(
            data.settings(),
            user=exc.username,
            role="-",
            district=None,
            action=exc.reason,
            target=None,
            allowed=False,
        )
        st.warning(REFUSED_SESSION[exc.reason])
        return None
    except auth.UsersFileError as exc:
        st.error(fmt.plain(str(exc)))
        st.stop()
    if user is None:
        st.session_state.pop(auth.SESSION_KEY, None)
    return user


def require_user(
    *, roles: tuple[str, ...] = ("leader", "analyst", "district"), page: str = ""
) -> User:
    """The logged-in user; stops the page for anyone else (also when a page is run directly)."""
    user = current_user()
    if user is None:
        st.warning("请先登录。")
        st.stop()
    if user.role not in roles:
        # A refused page is an access attempt like a refused lead: it goes in the log.
        access_log.record(
            data.settings(),
            user=user.username,
            role=user.role,
            district=user.district,
            action="view_page",
            target=page,
            allowed=False,
        )
        st.error("您的角色无权访问此页面。")
        st.stop()
    return user


class _PageDone(Exception):
    """Ends a page early (see :func:`done`)."""


def done() -> NoReturn:
    """End the page here, still drawing the footer (unlike ``st.stop``)."""
    raise _PageDone


@contextlib.contextmanager
def page(title: str, subtitle: str | None = None, **access: Any) -> Iterator[User]:
    """The frame of every page: access check, title, data errors as one line, footer.

    The footer (``<title> · 数据快照 … · 已加载``) is the last element of every page;
    the browser tests and the benchmark wait for it."""
    started = time.perf_counter()
    user = require_user(page=title, **access)
    st.title(title)
    scope_text = fmt.plain(user.district) if user.scope.restricted else "全市"
    st.caption(f"{subtitle + ' · ' if subtitle else ''}范围：{scope_text}")
    try:
        yield user
    except _PageDone:
        pass
    except data.SnapshotMissing as exc:
        st.error(fmt.plain(str(exc)))
    except data.AccessDenied as exc:
        st.error(fmt.plain(str(exc)))
    except duckdb.Error as exc:  # e.g. a snapshot published without a mart this page reads
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        st.error(f"读取数据快照出错：{fmt.plain(first)}（请检查最近一次发布是否完整）")
    footer(title, time.perf_counter() - started)


def footer(title: str, seconds: float | None = None) -> None:
    """The last element of every page. With ``PINGAN_DASHBOARD_TIMING`` set (the benchmark
    sets it) it also says how long the server took to run the page script."""
    try:
        pub = data.publication()
        version = (
            f"数据快照 {fmt.plain(pub['version'])}（发布于 {fmt.moment(pub['published_at'])}）"
        )
    except data.SnapshotMissing:
        version = "暂无数据快照"
    timing = ""
    if seconds is not None and os.environ.get("PINGAN_DASHBOARD_TIMING"):
        timing = f" · 服务端 {seconds * 1000:.0f} 毫秒"
    st.caption(f"{title} · {version}{timing} · 已加载")


# ---------------------------------------------------------------- widgets


def month_select(months: list[str], *, key: str, label: str = "月份") -> str | None:
    """A month picker defaulting to the latest month (a ?month= query parameter preselects)."""
    if not months:
        return None
    wanted = st.query_params.get("month")
    index = months.index(wanted) if wanted in months else len(months) - 1
    return st.selectbox(label, months, index=index, format_func=fmt.month, key=key)


def month_range(months: list[str], *, key: str, default_last: int = 1) -> list[str]:
    """A range of months (select slider); returns the months in the range, oldest first."""
    if not months:
        return []
    if len(months) == 1:
        return months
    start = months[max(0, len(months) - default_last)]
    first, last = st.select_slider(
        "统计期间",
        options=months,
        value=(start, months[-1]),
        format_func=fmt.month,
        key=key,
    )
    return [m for m in months if first <= m <= last]


def district_select(
    user: User, *, key: str, label: str = "区县", allow_all: bool = True
) -> str | None:
    """District officers are fixed to their own district; others may pick one or all."""
    if user.scope.restricted:
        st.selectbox(label, [user.district], disabled=True, key=key)
        return user.district
    options = data.districts(user.scope)
    choices = (["全部"] if allow_all else []) + options
    wanted = st.query_params.get("district")
    index = choices.index(wanted) if wanted in choices else 0
    picked = st.selectbox(label, choices, index=index, key=key)
    return None if picked == "全部" else picked


def street_select(user: User, district: str | None, *, key: str) -> str | None:
    if district is None:
        st.selectbox("街道(镇)", ["全部"], disabled=True, key=key)
        return None
    choices = ["全部", *data.streets(user.scope, district)]
    wanted = st.query_params.get("street")
    index = choices.index(wanted) if wanted in choices else 0
    picked = st.selectbox("街道(镇)", choices, index=index, key=key)
    return None if picked == "全部" else picked


# ---------------------------------------------------------------- exports


def export_button(
    user: User,
    label: str,
    *,
    action: str,
    target: str,
    build: Callable[[], bytes],
    file_name: str,
    mime: str,
    key: str,
) -> None:
    """A download whose file is built only when it is clicked, and logged then.

    Streamlit runs ``data`` when the button is clicked (a deferred download): before
    that no file exists, so no media URL can be fetched; the access-log row is written
    in the same call that builds the bytes, so no export leaves without its row. (The
    tables' own CSV download is switched off in ``serve.py``.)"""
    settings = data.settings()

    def build_on_click() -> bytes:
        access_log.record(
            settings,
            user=user.username,
            role=user.role,
            district=user.district,
            action=action,
            target=target,
            allowed=True,
        )
        return build()

    st.download_button(
        label, data=build_on_click, file_name=file_name, mime=mime, key=key, on_click="ignore"
    )


# ---------------------------------------------------------------- tables


def table(
    df: pd.DataFrame,
    columns: Mapping[str, tuple[str, str]],
    *,
    empty: str = "无数据",
    key: str | None = None,
    height: int | None = None,
) -> None:
    """Show ``df`` with Chinese headers; ``columns`` maps column -> (header, kind)."""
    if df is None or df.empty:
        st.info(fmt.plain(empty))
        return
    shown = df[[c for c in columns if c in df.columns]].copy()
    config: dict[str, Any] = {}
    # Numbers are shown as text formatted by fmt (万, one-decimal percentages, "—" for
    # missing) so tables read like the rest of the page; the queries sort them.
    formatters = {
        PCT: fmt.pct,
        COUNT: fmt.count,
        SCORE: fmt.score,
        SIGNED: fmt.signed,
        NUM: lambda v: fmt.MISSING if fmt.missing(v) else f"{float(v):.2f}",
    }
    for col, (label, kind) in columns.items():
        if col not in shown.columns:
            continue
        if kind in formatters:
            shown[col] = shown[col].map(formatters[kind]).astype(str)
            config[col] = st.column_config.TextColumn(label, alignment="right")
        elif kind == TIME:
            config[col] = st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")
        elif kind == DAY:
            config[col] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        elif kind == MONTH:
            shown[col] = shown[col].map(fmt.month)
            config[col] = st.column_config.TextColumn(label)
        elif kind == FLAG:
            config[col] = st.column_config.CheckboxColumn(label)
        else:
            shown[col] = shown[col].map(lambda v: fmt.MISSING if fmt.missing(v) else v)
            config[col] = st.column_config.TextColumn(label)
    kwargs: dict[str, Any] = {"hide_index": True, "column_config": config, "key": key}
    if height and len(shown) > 10:  # a short table keeps its natural height
        kwargs["height"] = height
    st.dataframe(shown, width="stretch", **kwargs)


# ---------------------------------------------------------------- charts


def chart_title(title: str, unit: str, period: str) -> str:
    return charts.chart_title(title, unit, period)


def _no_data(title: str, period: str) -> None:
    st.info(f"{fmt.plain(title)}：{fmt.plain(period)}无数据。")


def line_chart(df: pd.DataFrame, *, title: str, period: str, **spec: Any) -> None:
    """A trend line per month (:func:`dashboards.charts.line_spec`, the bulletin's too)."""
    chart = charts.line_spec(df, title=title, period=period, **spec)
    if chart is None:
        _no_data(title, period)
        return
    st.altair_chart(chart, width="stretch")


def bar_chart(df: pd.DataFrame, *, title: str, period: str, **spec: Any) -> None:
    """Horizontal bars per category (:func:`dashboards.charts.bar_spec`, the bulletin's too)."""
    chart = charts.bar_spec(df, title=title, period=period, **spec)
    if chart is None:
        _no_data(title, period)
        return
    st.altair_chart(chart, width="stretch")


def point_map(
    df: pd.DataFrame,
    *,
    value: str,
    label: str,
    title: str,
    unit: str,
    period: str,
    size: int = 400,
    labels: bool = False,
    high_is_good: bool = True,
    background: list[dict[str, Any]] | None = None,
) -> None:
    """Points (district/street centroids, dwellings) placed by longitude/latitude, coloured
    by a 0..100 score on a fixed scale (red = worse), over the ``background`` polygons
    (GeoJSON features of the boundary file) when given.

    Drawn with Vega-Lite (a Mercator projection, no base-map tiles: the command centre's
    network has no internet) rather than deck.gl: no WebGL, which a CPU-only browser
    renders slowly."""
    pts = df.dropna(subset=["lon", "lat"]) if df is not None and not df.empty else pd.DataFrame()
    if pts.empty:
        _no_data(title, period)
        return
    pts = pts.assign(显示值=pts[value].map(fmt.score), 名称=pts[label])
    colour = alt.Color(
        f"{value}:Q",
        title=unit,
        scale=alt.Scale(scheme="redyellowgreen", domain=[0, 100], reverse=not high_is_good),
    )
    base = alt.Chart(pts).encode(longitude="lon:Q", latitude="lat:Q")
    layers = base.mark_circle(size=size, opacity=0.85, stroke="#555", strokeWidth=0.5).encode(
        color=colour, tooltip=["名称", "显示值"]
    )
    if labels:
        layers = layers + base.mark_text(dy=-14, fontSize=12, color="#333").encode(text="名称:N")
    if background:
        outline = alt.Chart(
            alt.Data(values=[{"type": "Feature", "geometry": f["geometry"]} for f in background])
        ).mark_geoshape(fill="#f2f2f2", stroke="#999", strokeWidth=0.5)
        layers = outline + layers
    chart = layers.project(type="mercator").properties(
        title=chart_title(title, unit, period), height=420
    )
    st.altair_chart(chart, width="stretch", height=480)
