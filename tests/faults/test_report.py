"""The fault report renders the suite's results into README between its markers."""

from __future__ import annotations

import pytest

from tests.faults.report import END, START, render

ROWS = [
    {"test": "test_a", "fault": "磁盘写满", "checked": "one | clear line", "result": "passed"},
    {"test": "test_b", "fault": "注入", "checked": "nothing changes", "result": "failed"},
]


def test_the_report_table_replaces_only_the_text_between_the_markers() -> None:
    readme = f"# Pingan\nintro\n{START}\nold table\n{END}\nafter\n"
    out = render(readme, ROWS)
    assert out.startswith("# Pingan\nintro\n" + START + "\n| Fault or attack |")
    assert out.endswith(f"{END}\nafter\n") and "old table" not in out
    assert "| 磁盘写满 | one \\| clear line | ✅ passed | `test_a` |" in out
    assert "| 注入 | nothing changes | ❌ failed | `test_b` |" in out
    assert render(out, ROWS) == out  # idempotent


def test_a_readme_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        render("# Pingan\n", ROWS)
