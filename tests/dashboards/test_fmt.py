from datetime import datetime

import pandas as pd
import pytest

from dashboards import fmt


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (9_876, "9,876"),
        (12_345, "1.2万"),
        (1_490_000, "149.0万"),
        (345_000_000, "3.45亿"),
        (-25_000, "-2.5万"),
    ],
)
def test_counts_use_wan_and_yi_from_ten_thousand(value, shown):
    assert fmt.count(value) == shown


def test_rates_are_percentages_to_one_decimal_place():
    assert fmt.pct(0.9344) == "93.4%"
    assert fmt.pct(1) == "100.0%"
    assert fmt.pct_points(-0.15) == "-15.0个百分点"


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NaT, pd.NA])
def test_missing_values_show_a_dash_not_nan(missing):
    for f in (fmt.count, fmt.pct, fmt.score, fmt.signed, fmt.month, fmt.moment, fmt.age):
        assert f(missing) == fmt.MISSING


def test_months_and_periods_read_the_chinese_way():
    assert fmt.month("2026-03") == "2026年3月"
    assert fmt.period("2025-11", "2026-10") == "2025年11月—2026年10月"
    assert fmt.period("2026-10", "2026-10") == "2026年10月"
    assert fmt.moment(datetime(2026, 10, 3, 9, 5)) == "2026年10月3日 09:05"


def test_ages_switch_from_hours_to_days():
    assert fmt.age(0.5) == "不到1小时"
    assert fmt.age(30) == "30小时"
    assert fmt.age(24 * 5 + 3) == "5天"
