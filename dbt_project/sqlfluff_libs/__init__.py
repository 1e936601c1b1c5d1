"""What sqlfluff's jinja templater needs to render the models without dbt.

sqlfluff renders the models with plain Jinja (the dbt templater would compile the whole
project, too slow for `make lint`). Its dbt builtins cover ref/source/config; this adds
the rest the models use: ``var`` with the project's real values (so arithmetic on vars
renders), and ``dbt.*`` cross-database macros, ``adapter.dispatch`` and relation lookups
as plain SQL function calls of the same arguments, which lint the SQL around them. The
names here are what Jinja sees; see dbt_project/.sqlfluff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_PROJECT = yaml.safe_load((Path(__file__).resolve().parent.parent / "dbt_project.yml").read_text())
_VARS: dict[str, Any] = _PROJECT.get("vars", {})

# macros/truth.sql reads files only when dbt executes; lint renders the parse-time branch
execute = False


def var(name: str, default: Any = None) -> Any:
    value = _VARS.get(name, default)
    if isinstance(value, str) and "env_var(" in value:
        return default if default is not None else ""
    return value


def _call(name: str, *args: Any, **kwargs: Any) -> str:
    parts = [str(a) for a in args] + [str(v) for v in kwargs.values()]
    return f"{name}({', '.join(parts)})"


class _Dbt:
    """dbt's cross-database macros as SQL calls (their real SQL is adapter-specific)."""

    def concat(self, fields: list[str]) -> str:
        return _call("concat", *fields)

    def generate_series(self, upper_bound: int) -> str:
        return f"select range as generated_number from range(1, {upper_bound} + 1)"

    def dateadd(self, datepart: str, interval: Any, from_date: str) -> str:
        return f"date_add({from_date}, interval ({interval}) {datepart})"

    def datediff(self, first: str, second: str, datepart: str) -> str:
        return f"date_diff('{datepart}', {first}, {second})"

    def date_trunc(self, datepart: str, date: str) -> str:
        return f"date_trunc('{datepart}', {date})"

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: _call(name, *args, **kwargs)


class _Adapter:
    """adapter.dispatch(name)(args) renders as name(args)."""

    def dispatch(self, name: str, macro_namespace: str | None = None) -> Any:
        return lambda *args, **kwargs: _call(name, *args, **kwargs)

    def quote(self, identifier: str) -> str:
        return f'"{identifier}"'

    def get_columns_in_relation(self, relation: Any) -> list[Any]:
        return []


dbt = _Dbt()
adapter = _Adapter()


def load_relation(relation: Any) -> Any:
    return relation


def run_query(sql: str) -> None:
    return None
