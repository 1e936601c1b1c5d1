"""The safety-index page shows how each value was obtained and how much of it could be
placed in the unit (attribution coverage), through AppTest on the synthetic snapshot."""

from __future__ import annotations

from tests.dashboards.test_pages import open_page, start


def test_components_show_attribution_coverage_beside_the_value(dash_settings):
    at = open_page(start("leader"), "safety_index")
    assert not at.error
    components = next(df for df in at.dataframe if "attribution_coverage" in df.value.columns)
    shown = components.value
    columns = list(shown.columns)
    assert columns.index("attribution_coverage") == columns.index("raw_value") + 2  # after 单位
    assert set(shown["attribution_coverage"]) == {"100.0%"}
    assert any("归属率" in c.value for c in at.caption)
