"""Pingan dashboards: the entry point (``streamlit run dashboards/app.py``, or ``pingan serve``).

Routes every request: not logged in -> the login form only; logged in -> the
pages of the user's role. ``st.navigation`` is called on every run, so the
``pages/`` folder is never exposed by Streamlit's automatic page discovery, and
every page checks the login again itself.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboards import access_log, auth, data, fmt, sessions, ui

# A local image, not a :material/ icon: Streamlit turns that favicon into a link to
# Google's font CDN, which an offline government network (政务内网) cannot reach.
FAVICON = Path(__file__).with_name("static") / "favicon.png"
st.set_page_config(page_title="平安 · 社会治理数据看板", page_icon=str(FAVICON), layout="wide")


def login() -> None:
    st.title("平安 · 社会治理数据看板")
    st.caption("请使用分配的账号登录。")
    with st.form("login"):
        username = st.text_input("用户名", key="login_username")
        password = st.text_input("密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录")
    if submitted:
        try:
            user, refusal = auth.attempt(username, password, client=ui.client_address())
        except auth.UsersFileError as exc:
            st.error(str(exc))
            return
        if user is None:
            st.error(refusal)
            return
        st.session_state[auth.SESSION_KEY] = sessions.open_login(user.username, ui.browser_id())
        st.rerun()


def logout(user: auth.User) -> None:
    """Button callback: runs before the next script run, which then shows the login form."""
    sessions.close(st.session_state.pop(auth.SESSION_KEY, None))
    access_log.record(
        data.settings(),
        user=user.username,
        role=user.role,
        district=user.district,
        action="logout",
        target=None,
        allowed=True,
    )


PAGES = {
    "overview": st.Page(
        "pages/overview.py", title="总览", icon=":material/dashboard:", default=True
    ),
    "safety_index": st.Page(
        "pages/safety_index.py", title="平安稳定指数", icon=":material/shield:"
    ),
    "completion": st.Page("pages/completion.py", title="办结率", icon=":material/task_alt:"),
    "group_rental": st.Page(
        "pages/group_rental.py", title="群租房预警", icon=":material/home_work:"
    ),
    "lead_detail": st.Page(
        "pages/lead_detail.py",
        title="线索详情",
        icon=":material/search:",
        url_path="lead",
        visibility="hidden",
    ),
    "map": st.Page("pages/map.py", title="地图", icon=":material/map:"),
    "alerts": st.Page(
        "pages/alerts.py", title="预警提示单", icon=":material/notification_important:"
    ),
    "data_quality": st.Page(
        "pages/data_quality.py", title="数据质量", icon=":material/fact_check:"
    ),
}
# Pages in each role's menu; district officers do not get the data-quality page.
ROLE_PAGES = {
    "leader": list(PAGES),
    "analyst": list(PAGES),
    "district": [p for p in PAGES if p != "data_quality"],
}


def navigation_for(role: str) -> list[StreamlitPage]:
    """The role's menu, plus every other page registered hidden.

    A page outside the menu is still routed to its own script, whose role check
    refuses it, says so and writes the refusal to the access log. Left out of the
    navigation, Streamlit would quietly show the default page instead, and an officer
    typing ``/data_quality`` would leave no trace."""
    menu = ROLE_PAGES[role]
    outside = [
        st.Page(f"pages/{name}.py", title=p.title, url_path=p.url_path, visibility="hidden")
        for name, p in PAGES.items()
        if name not in menu
    ]
    return [PAGES[name] for name in menu] + outside


def _login_at(url_path: str) -> StreamlitPage:
    """The login form under a page's address, so a deep link (``/lead?lead=…``) opened
    before logging in shows the form and, once logged in, the page it pointed to."""

    def login_here() -> None:
        login()

    login_here.__name__ = f"login_{url_path}"
    return st.Page(login_here, title="登录", url_path=url_path, visibility="hidden")


user = ui.current_user()
if user is None:
    login_pages = [st.Page(login, title="登录", icon=":material/login:", default=True)]
    login_pages += [_login_at(p.url_path) for p in PAGES.values() if p.url_path]
    st.navigation(login_pages, position="hidden").run()
else:
    with st.sidebar:
        where = user.district if user.scope.restricted else "全市"
        st.markdown(f"**{fmt.plain(user.display_name)}**（{user.role_label}，{fmt.plain(where)}）")
        st.button("退出登录", key="logout", on_click=logout, args=(user,))
    st.navigation(navigation_for(user.role)).run()
