"""The safety-index page shows how each value was obtained and how much of it could be
placed in the unit (attribution coverage), through AppTest on the pipeline's snapshot."""

from __future__ import annotations

from dashboards import data, fmt
from tests.dashboards.test_pages import open_page, start


def test_components_show_attribution_coverage_beside_the_value(dash_settings):
    at = open_page(start("leader"), "safety_index")
    assert not at.error
    components = next(df for df in at.dataframe if "attribution_coverage" in df.value.columns)
    shown = components.value
    columns = list(shown.columns)
    assert columns.index("attribution_coverage") == columns.index("raw_value") + 2  # after 单位
    # the first unit's components (the page's default), each with the mart's coverage
    month = data.index_months()[-1]
    first = data.index_units(data.Scope("leader"), month, "district")["region_key"].iloc[0]
    comps = data.unit_components(data.Scope("leader"), first, month)
    expected = [fmt.pct(v) for v in comps["attribution_coverage"]]
    assert shown["attribution_coverage"].tolist() == expected
    assert any(v.endswith("%") for v in expected)
    assert any("归属率" in c.value for c in at.caption)


def test_ranking_shows_each_rank_with_its_interval_and_labels_noise(dash_settings):
    at = open_page(start("leader"), "safety_index")
    ranking = next(df for df in at.dataframe if "rank_interval" in df.value.columns).value
    units = data.index_units(data.Scope("leader"), data.index_months()[-1], "district")
    expected = {
        name: fmt.rank_interval(lo, hi)
        for name, lo, hi in zip(
            units["region_name"], units["rank_p05"], units["rank_p95"], strict=True
        )
    }
    assert dict(zip(ranking["region_name"], ranking["rank_interval"], strict=True)) == expected
    labels = dict(zip(ranking["region_name"], ranking["rank_change_label"], strict=True))
    for _, unit in units.iterrows():
        shown = labels[unit["region_name"]]
        moved = not fmt.missing(unit["rank_change_mom"]) and unit["rank_change_mom"] != 0
        within = unit["rank_change_within_interval"]
        if moved and not fmt.missing(within) and within:
            assert shown.endswith("（变化在误差范围内）"), shown
        else:
            assert "误差" not in shown, shown
    assert any("误差范围内" in v for v in labels.values())
    top = data.index_sensitivity(data.index_months()[-1], "district").iloc[0]["choice_name"]
    assert any(c.value.startswith(f"对排名影响最大的构成选择：{top}") for c in at.caption)


def test_rank_change_label_words() -> None:
    assert fmt.rank_change(2, True) == "上升2位（变化在误差范围内）"
    assert fmt.rank_change(-3, False) == "下降3位"
    assert fmt.rank_change(0, True) == "持平"
    assert fmt.rank_change(None, None) == "—"
    assert fmt.rank_interval(2, 2) == "第2名" and fmt.rank_interval(1, 4) == "第1—4名"


def test_sensitivity_table_lists_every_construction_choice_strongest_first(dash_settings):
    at = open_page(start("leader"), "safety_index")
    shown = next(df for df in at.dataframe if "choice_name" in df.value.columns).value
    sens = data.index_sensitivity(data.index_months()[-1], "district")
    assert shown["choice_name"].tolist() == sens["choice_name"].tolist()
    assert set(shown["choice_name"]) == {"指标权重", "标准化方法", "合成方法", "公众安全感沿用上期"}
    # each option with the mean rank shift of its draws: 极差标准化 0.4；Z分数标准化 0.9；…
    normalisation = shown.loc[shown["choice_name"] == "标准化方法", "options"].iloc[0]
    assert normalisation.count("；") == 2 and "Z分数标准化 " in normalisation


def test_index_map_draws_the_polygons_and_lists_the_district_without_one(
    dash_settings, snapshot_settings, tmp_path, monkeypatch
):
    from tests.dashboards.test_map_page import geoshape_values
    from tests.snapshots import boundaries_without

    path = boundaries_without(snapshot_settings, tmp_path / "own", ("海门区",))
    monkeypatch.setenv("PINGAN_BOUNDARIES", str(path))
    at = open_page(start("leader"), "safety_index")
    assert not at.exception and not at.error
    units = data.index_units(data.Scope("leader"), data.index_months()[-1], "district")
    names = {f["properties"]["名称"] for f in geoshape_values(at)}
    assert names == set(units["region_name"]) - {"海门区"}
    assert any(c.value.startswith("未上图的区县（无边界数据）：海门区") for c in at.caption)
