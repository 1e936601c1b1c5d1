"""Small real export files for orchestration tests (headers derived from the contracts)."""

from __future__ import annotations

import csv
from pathlib import Path

from contracts.entities import entity
from contracts.settings import Settings


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")


def ticket(n: int, **overrides: str) -> dict[str, str]:
    row = {
        "ticket_id": f"NT20261003{n:05d}",
        "received_at": "2026-10-03 09:05:00",
        "channel": "电话",
        "caller_name": "张三",
        "caller_phone": "13812345678",
        "request_type": "投诉",
        "category_path": "公共安全>社会治安>噪音扰民",
        "content": "楼上噪音",
        "address": f"崇川区工农路{n}号3幢201室",
        "district": "崇川区",
        "street": "和平桥街道",
        "department": "公安局",
        "dispatched_at": "2026-10-03 10:00:00",
        "due_at": "2026-10-10 10:00:00",
        "closed_at": "2026-10-05 10:00:00",
        "status": "已办结",
        "satisfaction": "满意",
        "is_repeat": "否",
        "updated_at": "2026-10-05 10:00:00",
    }
    row.update(overrides)
    return row


def write_tickets(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write a hotline export (UTF-8 CSV with the Chinese headers of the contract)."""
    ent = entity("hotline_tickets")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in ent.columns])
        for row in rows:
            writer.writerow([row.get(c.canonical, "") for c in ent.columns])
    return path
