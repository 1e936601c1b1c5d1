"""Constants shared by the dashboard tests."""

from __future__ import annotations

from pathlib import Path

from simulator import vocab

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
# Demo users of dashboards/users.toml (passwords documented in dashboards/README.md).
PASSWORDS = {
    "leader": "pingan-leader",
    "analyst": "pingan-analyst",
    "chongchuan": "pingan-cc",
    "tongzhou": "pingan-tz",
}
OFFICER_DISTRICT = {"chongchuan": "崇川区", "tongzhou": "通州区"}
# The simulated city's districts (the snapshot's, see the ``regions`` fixture for streets).
ALL_DISTRICTS = tuple(d[0] for d in vocab.DISTRICTS)
