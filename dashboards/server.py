"""The served app: ``dashboards/app.py`` behind :class:`dashboards.gate.Gate`.

``pingan serve`` runs this file with ``streamlit run``; Streamlit finds the ``st.App``
below and serves it with the gate as the outermost middleware, so every HTTP request
and websocket passes the gate first. AppTest runs ``app.py`` itself (no HTTP there).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from dashboards.gate import Gate

app = st.App(str(Path(__file__).with_name("app.py")), middleware=[Middleware(Gate)])
