"""Render ``test-artifacts/faults.json`` into README between the faults markers.

Run the fault suite first (``uv run pytest tests/faults``), then
``uv run python -m tests.faults.report``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-artifacts" / "faults.json"
README = ROOT / "README.md"
START, END = "<!-- faults:start -->", "<!-- faults:end -->"
MARK = {
    "passed": "✅ passed",
    "failed": "❌ failed",
    "skipped": "⏭ skipped",
    "xfail (known bug)": "⚠️ known bug (xfail, reported)",
}


def table(rows: list[dict[str, str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| Fault or attack | What was checked | Result | Test |", "|---|---|---|---|"]
    lines += [
        f"| {cell(r['fault'])} | {cell(r['checked'])} | {MARK.get(r['result'], r['result'])} "
        f"| `{r['test']}` |"
        for r in rows
    ]
    return "\n".join(lines)


def render(readme: str, rows: list[dict[str, str]]) -> str:
    if START not in readme or END not in readme:
        raise ValueError(f"README has no {START} ... {END} markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(rows)}\n{END}{tail}"


def main() -> int:
    try:
        rows = json.loads(RESULTS.read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"no {RESULTS}: run `uv run pytest tests/faults` first", file=sys.stderr)
        return 1
    try:
        README.write_text(render(README.read_text(encoding="utf-8"), rows), encoding="utf-8")
    except ValueError as exc:
        print(f"faults report: {exc}", file=sys.stderr)
        return 1
    print(f"README: {len(rows)} fault rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
