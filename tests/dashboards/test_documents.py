"""The notices as documents: .docx read back with python-docx, PDF text extracted and
pages rendered with poppler, numbers stable on a rerun (on the dashboards' pipeline
snapshot, whose simulated city plants districts that deteriorate in its last months, so it
raises alerts); and on the shared test-scale sample, every unit with worsening alerts in its
last month is notified."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest
from docx import Document

from contracts.settings import Settings
from dashboards.documents import write_notices
from dashboards.documents.write import latest_month
from tests.pdf_fonts import pdf_fonts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def snapshot(snapshot_settings: Settings) -> Settings:
    """The dashboards' pipeline snapshot (read only: the documents go to their own dirs)."""
    return snapshot_settings


@pytest.fixture(scope="module")
def written(snapshot: Settings, tmp_path_factory: pytest.TempPathFactory):
    month = latest_month(snapshot)
    assert month, "the snapshot has notices"
    first = write_notices(month, tmp_path_factory.mktemp("n1"), settings=snapshot)
    again = write_notices(month, tmp_path_factory.mktemp("n2"), settings=snapshot)
    con = duckdb.connect(str(snapshot.published_warehouse), read_only=True)
    register = con.sql("select * from marts.mart_notices where month = ?", params=[month]).df()
    items = con.sql("select * from marts.mart_notice_items where month = ?", params=[month]).df()
    alerted = {
        r[0]
        for r in con.execute(
            "select distinct region_key from marts.mart_alerts where is_worsening and month = ?",
            [month],
        ).fetchall()
    }
    con.close()
    return {"first": first, "again": again, "register": register, "items": items,
            "alerted": alerted}  # fmt: skip


def _unit(row) -> str:
    return (
        row["district"] + row["region_name"]
        if row["region_level"] == "street"
        else row["region_name"]
    )


def test_every_notice_of_the_month_is_written_as_docx_and_pdf(written):
    reg = written["register"]
    assert set(reg["region_key"]) == written["alerted"]
    assert sorted(written["first"].notices) == sorted(reg["notice_id"])
    assert len(written["first"].files) == 2 * len(reg)


def test_every_unit_with_alerts_in_the_samples_last_month_gets_a_notice(
    published_warehouse: Settings, tmp_path: Path
):
    con = duckdb.connect(str(published_warehouse.published_warehouse), read_only=True)
    (month,) = con.execute("select max(month) from marts.mart_safety_index_components").fetchone()
    alerted = {
        r[0]
        for r in con.execute(
            "select distinct region_key from marts.mart_alerts where is_worsening and month = ?",
            [month],
        ).fetchall()
    }
    register = con.execute(
        "select region_key, notice_id from marts.mart_notice_register where month = ?", [month]
    ).fetchall()
    con.close()
    assert {k for k, _ in register} == alerted
    result = write_notices(month, tmp_path, settings=published_warehouse)
    assert sorted(result.notices) == sorted(n for _, n in register)
    assert len(result.files) == 2 * len(register)


def test_numbers_and_pdf_bytes_are_the_same_on_a_rerun(written):
    first, again = written["first"], written["again"]
    assert first.notices == again.notices
    for a, b in zip(first.files, again.files, strict=True):
        assert a.name == b.name
        if a.suffix == ".pdf":
            assert a.read_bytes() == b.read_bytes()


def test_docx_reads_back_with_number_unit_indicators_and_deadline(written):
    reg = written["register"].set_index("notice_id")
    for path in [p for p in written["first"].files if p.suffix == ".docx"]:
        doc = Document(str(path))
        text = "\n".join(p.text for p in doc.paragraphs)
        notice_id = next(n for n in reg.index if n in text)
        row = reg.loc[notice_id]
        assert f"{_unit(row)}：" in text
        table = doc.tables[0]
        assert [c.text for c in table.rows[0].cells][:3] == ["指标", "本月", "上月"]
        names = set(written["items"].query("notice_id == @notice_id")["indicator_name"])
        assert all(name in text for name in names)
        assert len(table.rows) == 1 + len(names)
        assert "前通过指挥中心办公系统签收并反馈" in text


def _pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_pdf_text_is_chinese_and_names_the_unit_and_indicators(written):
    reg = written["register"].set_index("notice_id")
    for notice_id, path in zip(
        written["first"].notices, [p for p in written["first"].files if p.suffix == ".pdf"],
        strict=True,
    ):  # fmt: skip
        text = "".join(_pdftotext(path).split())  # lines wrap anywhere in CJK text
        row = reg.loc[notice_id]
        assert "平安建设风险预警提示单" in text and notice_id in text
        assert _unit(row) in text
        for name in written["items"].query("notice_id == @notice_id")["indicator_name"]:
            assert name in text
        assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) > 100


def test_pdf_pages_render_to_images(written, tmp_path: Path):
    pdf = next(p for p in written["first"].files if p.suffix == ".pdf")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages and all(p.stat().st_size > 5_000 for p in pages)
    # every font is the embedded CJK font: no unembedded Helvetica from reportlab's defaults
    fonts = pdf_fonts(pdf)
    assert fonts and all("WenQuanYi" in name for name, _ in fonts), fonts
    assert all(embedded for _, embedded in fonts), fonts
