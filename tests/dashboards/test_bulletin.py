"""The bulletin (月度通报 / 季度通报) as PDF: on the real test-scale sample's snapshot, the last
month's bulletin renders (pages to images with poppler), its text is Chinese and names
every district, and its ranking and figures are the marts'; the quarterly edition (on the
dashboards' pipeline snapshot, 2026-04 to 2026-10, so 2026-Q3 is whole) covers three months;
a period the snapshot does not cover is refused in one line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from contracts.settings import Settings
from dashboards.documents.bulletin import BulletinError, Period
from dashboards.documents.bulletin_write import latest_period, write_bulletin
from dashboards.fmt import NOISE_LABEL
from tests.pdf_fonts import pdf_fonts

pytestmark = pytest.mark.slow
UNPLACED = "海门区"  # the district the quarterly test's boundaries have no polygon for
UNPLACED_STREET = "崇川区/和平桥街道"  # and the street


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def _pages(pdf: Path, out: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


@pytest.fixture(scope="module")
def monthly(
    published_warehouse: Settings, sample_root: Path, tmp_path_factory: pytest.TempPathFactory
):
    period = latest_period("month", published_warehouse)
    assert period is not None
    out = tmp_path_factory.mktemp("bulletin")
    # the sample's own boundaries, as a real city names its file
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PINGAN_BOUNDARIES", str(sample_root / "boundaries.geojson"))
        result = write_bulletin(period, out, settings=published_warehouse)
    con = duckdb.connect(str(published_warehouse.published_warehouse), read_only=True)
    try:
        mart = con.execute(
            """select i.region_name, i.rank, u.rank_p05, u.rank_p95, i.safety_index
               from marts.mart_safety_index i
               left join marts.mart_safety_index_uncertainty u using (index_id)
               where i.month = ? and i.region_level = 'district'
               order by i.rank nulls last, i.region_key""",
            [period.last],
        ).df()
        districts = [
            r[0]
            for r in con.execute(
                "select district from marts.dim_region where region_level = 'district'"
            ).fetchall()
        ]
        completion = con.execute(
            """select stream, sum(items_due) as items_due, sum(items_closed) as items_closed
               from marts.mart_completion_rates
               where region_level = 'city' and breakdown = 'all' and month = ?
               group by stream""",
            [period.last],
        ).df()
        notices = con.execute(
            "select count(*) from marts.mart_notices where month = ?", [period.last]
        ).fetchone()[0]
        latest = con.execute("select max(month) from marts.mart_safety_index").fetchone()[0]
    finally:
        con.close()
    return {
        "result": result,
        "text": _text(result.path),
        "mart": mart,
        "districts": districts,
        "completion": completion,
        "notices": notices,
        "latest": latest,
        "out": out,
    }


def test_the_samples_last_month_bulletin_renders_every_page(monthly):
    result = monthly["result"]
    assert result.period.last == monthly["latest"]
    assert result.path.name == f"{monthly['latest']}_月度通报.pdf"
    pages = _pages(result.path, monthly["out"])
    assert len(pages) >= 2
    assert all(p.stat().st_size > 2_000 for p in pages)  # drawn, not blank


def test_every_font_of_the_bulletin_is_embedded(monthly):
    fonts = pdf_fonts(monthly["result"].path)
    assert fonts and all("WenQuanYi" in name for name, _ in fonts), fonts
    assert all(embedded for _, embedded in fonts), fonts


def test_the_bulletin_is_chinese_and_names_every_district(monthly):
    text = monthly["text"]
    assert "全市平安建设月度通报" in text and "平安稳定指数" in text and "办结率" in text
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    assert cjk > 500 and cjk > len(re.findall(r"[A-Za-z]", text))
    assert monthly["districts"] and all(d in text for d in monthly["districts"])


def test_every_district_of_the_sample_is_on_the_bulletins_map(monthly):
    b = monthly["result"].bulletin
    assert {f["properties"]["region_key"] for f in b.shapes} >= set(b.districts["region_key"])
    assert b.unplaced == [] and "未上图" not in monthly["text"]


def test_every_street_is_on_the_bulletins_street_map_with_the_months_hotspots(
    monthly, published_warehouse: Settings
):
    b = monthly["result"].bulletin
    assert {f["properties"]["region_key"] for f in b.street_shapes} >= set(b.streets["region_key"])
    assert b.unplaced_streets == []
    con = duckdb.connect(str(published_warehouse.published_warehouse), read_only=True)
    try:
        top = con.execute(
            """select place, tickets from marts.mart_hotline_hotspots where month = ?
               order by tickets desc, region_key, place limit 30""",
            [b.period.last],
        ).fetchall()
    finally:
        con.close()
    assert top and list(zip(b.hotspots["place"], b.hotspots["tickets"], strict=True)) == top
    text = monthly["text"]
    assert "12345工单热点" in text and top[0][0] in text.replace("\n", "")


def test_the_bulletin_prints_which_construction_choice_moves_ranks_most(
    monthly, published_warehouse: Settings
):
    con = duckdb.connect(str(published_warehouse.published_warehouse), read_only=True)
    try:
        choices = con.execute(
            """select distinct choice_name, choice_rank from marts.mart_safety_index_sensitivity
               where month = ? and region_level = 'district' order by choice_rank""",
            [monthly["result"].period.last],
        ).fetchall()
    finally:
        con.close()
    text = monthly["text"].replace("\n", "")
    assert f"对区县排名影响最大的构成选择是{choices[0][0]}" in text
    assert all(name in text.split("排名稳健性")[1] for name, _ in choices)


def test_the_bulletins_district_ranking_is_the_marts(monthly):
    ranking = monthly["result"].bulletin.districts
    mart = monthly["mart"]
    got = ranking[["region_name", "rank", "rank_p05", "rank_p95"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got, mart[["region_name", "rank", "rank_p05", "rank_p95"]], check_dtype=False
    )
    # and the PDF's ranking table lists them in that order, each with its interval
    # (up to the sensitivity table printed under it)
    table = monthly["text"].split("（一）区县排名")[1].split("排名稳健性")[0]
    lines = [ln for ln in table.splitlines() if ln.strip()[:1].isdigit()]
    names = [next(n for n in mart["region_name"] if n in ln) for ln in lines]
    assert names == mart["region_name"].tolist()
    for ln, row in zip(lines, mart.to_dict("records"), strict=True):
        assert ln.split()[0] == str(int(row["rank"]))
        if pd.notna(row["rank_p05"]):
            lo, hi = int(row["rank_p05"]), int(row["rank_p95"])
            assert (f"第{lo}—{hi}名" if lo != hi else f"第{lo}名") in ln


def test_rank_changes_inside_the_interval_are_labelled_as_noise(monthly):
    d = monthly["result"].bulletin.districts
    noisy = d[(d["rank_change_mom"].fillna(0) != 0) & d["rank_change_within_interval"].eq(True)]
    real = d[(d["rank_change_mom"].fillna(0) != 0) & d["rank_change_within_interval"].eq(False)]
    assert all(NOISE_LABEL in label for label in noisy["rank_change_label"])
    assert not any(NOISE_LABEL in label for label in real["rank_change_label"])
    # and the PDF prints it in the ranking table, one per change within noise (a wrapped
    # cell keeps "误差范围" on its first line)
    assert not noisy.empty
    table = monthly["text"].split("（一）区县排名")[1].split("排名稳健性")[0]
    assert table.count("误差范围") == len(noisy)


def test_the_bulletins_counts_are_the_marts(monthly):
    b = monthly["result"].bulletin
    got = b.completion.set_index("stream")[["items_due", "items_closed"]]
    want = monthly["completion"].set_index("stream").loc[got.index]
    assert (got.to_numpy() == want.to_numpy()).all()
    issued = int(b.notices["issued"].sum()) if not b.notices.empty else 0
    assert issued == monthly["notices"]
    assert f"下发预警提示单{issued}份" in monthly["text"] or issued == 0
    # coverage is printed beside the index of every district
    assert b.districts["min_attribution_coverage"].notna().all()


def test_a_period_the_snapshot_does_not_cover_is_refused_in_one_line(published_warehouse):
    with pytest.raises(BulletinError) as err:
        write_bulletin(Period.parse(month="2020-01"), settings=published_warehouse)
    assert "no safety index for 2020-01" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(BulletinError, match="bad month"):
        Period.parse(month="2026-13")
    with pytest.raises(BulletinError, match="bad quarter"):
        Period.parse(quarter="2026-Q5")


# ---------------------------------------------------------------- the quarterly edition


@pytest.fixture(scope="module")
def quarter_snapshot(
    snapshot_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """The dashboards' pipeline snapshot (2026-04 to 2026-10: 2026-Q3 is its newest whole
    quarter), with the city's boundaries less one district's polygon."""
    import os

    from tests.snapshots import boundaries_without, settings_for

    data_dir = tmp_path_factory.mktemp("quarter_snapshot")
    os.symlink(snapshot_settings.published_dir, data_dir / "published")
    boundaries_without(snapshot_settings, data_dir, (UNPLACED, UNPLACED_STREET))
    return settings_for(data_dir)


def test_the_quarterly_bulletin_covers_the_quarters_three_months(
    quarter_snapshot: Settings, tmp_path: Path
):
    period = latest_period("quarter", quarter_snapshot)
    assert period == Period.parse(quarter="2026-Q3")
    result = write_bulletin(period, tmp_path, settings=quarter_snapshot)
    b = result.bulletin
    assert sorted(b.district_months["month"].unique()) == ["2026-07", "2026-08", "2026-09"]
    con = duckdb.connect(str(quarter_snapshot.published_warehouse), read_only=True)
    try:
        due = con.execute(
            """select stream, sum(items_due) from marts.mart_completion_rates
               where region_level = 'city' and breakdown = 'all'
                 and month in ('2026-07', '2026-08', '2026-09') group by stream"""
        ).fetchall()
        issued = con.execute(
            "select count(*) from marts.mart_notices where month between '2026-07' and '2026-09'"
        ).fetchone()[0]
    finally:
        con.close()
    assert dict(due) == dict(zip(b.completion["stream"], b.completion["items_due"], strict=True))
    assert int(b.notices["issued"].sum()) == issued
    text = _text(result.path)
    assert "全市平安建设季度通报（2026年第三季度）" in text
    assert "2026年7月—2026年9月" in text and "各月排名" in text
    assert result.path.name == "2026-Q3_季度通报.pdf"
    # the district map is drawn; the district without a polygon is listed, not dropped
    assert b.shapes and b.unplaced == [UNPLACED]
    assert f"未上图的区县（无边界数据）：{UNPLACED}" in text.replace("\n", "")
    # the street map too
    assert b.street_shapes and b.unplaced_streets == [UNPLACED_STREET.replace("/", "")]
    assert f"未上图的街道(镇)（无边界数据）：{UNPLACED_STREET.replace('/', '')}" in text.replace(
        "\n", ""
    )


@pytest.mark.parametrize(
    "content, note",
    [
        (None, "无边界数据（设置 PINGAN_BOUNDARIES 指向边界文件），本期未绘制地图"),
        (
            '{"type": "FeatureCollection", "features": [',
            "边界文件无法使用（own.geojson），本期未绘制地图",
        ),
    ],
    ids=["no file", "not JSON"],
)
def test_without_a_usable_boundary_file_the_bulletin_is_made_without_its_maps(
    quarter_snapshot: Settings, tmp_path: Path, monkeypatch, content, note
):
    own = tmp_path / "own.geojson"
    if content is not None:
        own.write_text(content, encoding="utf-8")
    monkeypatch.setenv("PINGAN_BOUNDARIES", str(own))
    said: list[str] = []
    result = write_bulletin(
        Period.parse(month="2026-09"), tmp_path, progress=said.append, settings=quarter_snapshot
    )
    assert result.bulletin.shapes == [] and result.bulletin.street_shapes == []
    assert any(note in line for line in said)  # the operator is told, not only the reader
    text = _text(result.path).replace("\n", "")
    assert note in text and "（一）区县排名" in text and "未上图" not in text


def test_a_quarter_with_a_month_missing_is_refused_naming_it(quarter_snapshot: Settings):
    with pytest.raises(
        BulletinError,
        match=r"2026-Q4 needs its three months.*2026-10.*no safety index for 2026-11, 2026-12",
    ):
        write_bulletin(Period.parse(quarter="2026-Q4"), settings=quarter_snapshot)


def test_hostile_text_in_the_snapshot_is_printed_as_text(payload_settings: Settings, tmp_path):
    """Region names and labels carrying markup (reportlab's mini-markup is HTML-like) are
    printed literally: no link, no image fetched, no broken document."""
    result = write_bulletin(Period.parse(month="2026-10"), tmp_path, settings=payload_settings)
    pdf = result.path.read_bytes()
    assert b"/URI" not in pdf  # no link annotation made from a value
    text = _text(result.path).replace("\n", "")
    assert "<img src=http" in text and "[点我](http" in text
