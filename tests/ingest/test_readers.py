"""Readers: encodings, separators, XLSX layouts, header variants, entity recognition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.readers import FileRejected, match_header, read_export
from tests.ingest.conftest import HOTLINE, hotline_row, write_csv, write_xlsx

ROWS = [hotline_row("NT001"), hotline_row("NT002", 工单状态="已办结")]


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [
        ("gb18030", ","),
        ("gbk", ","),
        ("utf-8", ","),
        ("utf-8-sig", ","),
        ("gb18030", "\t"),
        ("utf-8-sig", "\t"),
    ],
)
def test_csv_in_every_encoding_and_separator_reads_the_same_records(
    tmp_path: Path, encoding: str, sep: str
) -> None:
    records = read_export(
        write_csv(tmp_path / "12345_工单_20261003.csv", ROWS, encoding=encoding, sep=sep)
    )
    assert records.entity is HOTLINE
    assert records.frame["ticket_id"].to_list() == ["NT001", "NT002"]
    assert records.frame["district"].to_list() == ["崇川区", "崇川区"]
    assert records.frame["_row_number"].to_list() == [2, 3]


def test_xlsx_with_title_blank_and_total_rows_on_the_second_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "工单导出(1).xlsx", ROWS, blank_row_after=0)
    records = read_export(path)
    assert records.entity is HOTLINE  # recognised from the header: the name only says 工单
    assert records.frame["ticket_id"].to_list() == ["NT001", "NT002"]
    # Title on sheet row 1, blank row 2, header row 3, records on rows 4 and 6 (blank row 5).
    assert records.frame["_row_number"].to_list() == [4, 6]
    assert records.rows_read == 2  # title, header, blank and 合计 rows are not records


def test_xlsx_date_cells_and_serials_arrive_as_text_the_parsers_read(tmp_path: Path) -> None:
    import datetime as dt

    rows = [
        hotline_row("NT001", 来电时间=dt.datetime(2026, 10, 3, 9, 5)),
        hotline_row("NT002", 来电时间=46298.378472222),
    ]
    records = read_export(write_xlsx(tmp_path / "a.xlsx", rows))
    from ingest.normalise import apply, parse_timestamp

    assert (
        apply(parse_timestamp, records.frame["received_at"].to_list())
        == [dt.datetime(2026, 10, 3, 9, 5)] * 2
    )


def test_header_aliases_spaces_full_width_and_column_order_do_not_matter(tmp_path: Path) -> None:
    row = hotline_row("NT001")
    renamed = {
        ("工单号" if k == "工单编号" else " 最后更新时间 " if k == "更新时间" else k): v
        for k, v in row.items()
    }
    reordered = dict(reversed(list(renamed.items())))
    records = read_export(write_csv(tmp_path / "x.csv", [reordered]))
    assert records.frame["ticket_id"].to_list() == ["NT001"]
    assert records.frame["updated_at"].to_list() == ["2026-10-03 10:00:00"]


def test_full_width_brackets_in_headers_match() -> None:
    cells = ["房屋编号", "房屋地址", "建筑面积（㎡）", "房间数"]
    match = match_header(cells, "出租房屋_登记_202610.xlsx")
    assert match is not None and match.entity.name == "rental_houses"
    assert match.columns[2] == "floor_area_m2"


def test_unknown_extra_columns_are_kept_as_json_and_never_fail(tmp_path: Path) -> None:
    rows = [dict(hotline_row("NT001"), 新增字段="A1", 备注="联系13812345678")]
    records = read_export(write_csv(tmp_path / "x.csv", rows))
    extra = json.loads(records.frame["_extra"][0])
    assert extra == {"新增字段": "A1", "备注": "联系138****5678"}


def test_renamed_file_is_recognised_from_its_header(tmp_path: Path) -> None:
    records = read_export(write_csv(tmp_path / "导出数据(3).csv", ROWS))
    assert records.entity is HOTLINE


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\x00\x01\x02garbage\xff\xfe", "unreadable"),
        (b"a,b,c\n1,2,3\n", "not a known export"),
        (
            "来电时间,工单状态,满意度,所属区县\n2026-10-03,办理中,满意,崇川区\n".encode("gb18030"),
            "key column missing",
        ),
    ],
)
def test_whole_file_faults_have_a_one_line_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "12345_工单_20261003.csv"
    path.write_bytes(content)
    with pytest.raises(FileRejected) as exc:
        read_export(path)
    assert exc.value.reason.startswith(reason)
    assert "\n" not in exc.value.reason


def test_truncated_xlsx_is_reported_as_corrupt(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", ROWS)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(FileRejected, match="corrupt XLSX"):
        read_export(bad)


def test_malformed_csv_records_are_rejected_with_line_and_reason_others_kept(
    tmp_path: Path,
) -> None:
    header = list(hotline_row("x").keys())
    good = ",".join(hotline_row("NT001").values())
    too_many = ",".join(hotline_row("NT002").values()) + ",extra"
    too_few = "NT003,2026-10-03"
    last = ",".join(hotline_row("NT004").values())
    path = tmp_path / "12345_工单_20261003.csv"
    path.write_bytes(
        ("\n".join([",".join(header), good, too_many, too_few, last]) + "\n").encode("gb18030")
    )
    records = read_export(path)
    assert records.frame["ticket_id"].to_list() == ["NT001", "NT004"]
    assert records.frame["_row_number"].to_list() == [2, 5]
    assert records.rejected["_row_number"].to_list() == [3, 4]
    assert "too many columns" in records.rejected["reason"][0]
    assert "missing columns" in records.rejected["reason"][1]
    assert "13812345678" not in records.rejected["row_json"][0]  # the raw line is masked too


def test_gb18030_file_cut_mid_character_is_unreadable(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "12345_工单_20261003.csv", ROWS * 3000)
    data = path.read_bytes()
    path.write_bytes(data + "工".encode("gb18030")[:1])
    with pytest.raises(FileRejected, match="truncated"):
        read_export(path)


def test_a_stray_quote_rejects_its_line_and_the_swallowed_lines_are_read_again(
    tmp_path: Path,
) -> None:
    header = "工单编号,来电时间,工单状态"
    lines = [
        header,
        "NT1,2026-10-01,办理中",
        'NT2,"oops,办理中',  # opens a quote that the next quote (line 5) closes
        "NT3,2026-10-03,办理中",
        'NT4,2026-10-04,"办理中',
        "NT5,2026-10-05,办理中",
        "NT6,2026-10-06,办理中",
    ]
    path = tmp_path / "12345_工单_20261006.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    records = read_export(path)
    assert records.frame["ticket_id"].to_list() == ["NT1", "NT3", "NT5", "NT6"]
    assert records.frame["_row_number"].to_list() == [2, 4, 6, 7]
    assert records.rejected["_row_number"].to_list() == [3, 5]
    assert all("stray quote" in r for r in records.rejected["reason"])
    assert records.rows_read == 6
