"""Loading: nothing lost, nothing twice, one transaction per file, a ledger row per file."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from contracts.settings import Settings
from ingest.load import ingest_paths
from orchestration.cli import main as pingan
from tests.ingest.conftest import hotline_row, query, valid_id, write_csv, write_xlsx


def ledger(settings: Settings) -> list[tuple]:
    return query(
        settings,
        "select file_name, status, rows_read, rows_loaded, rows_rejected, reason "
        "from raw.load_ledger order by delivery_seq",
    )


def test_every_row_read_is_loaded_or_rejected_with_its_reason(
    tmp_path: Path, settings: Settings
) -> None:
    rows = [
        hotline_row("NT001"),
        hotline_row("", 诉求内容="no key"),
        hotline_row("NT003", 来电时间="not a time", 受理渠道="飞鸽传书", 来电号码="12"),
        hotline_row("NT004"),
    ]
    ingest_paths([write_csv(tmp_path / "in" / "12345_工单_20261003.csv", rows)], settings)
    assert ledger(settings) == [("12345_工单_20261003.csv", "loaded", 4, 3, 1, None)]
    assert query(settings, "select ticket_id from raw.hotline_tickets order by 1") == [
        ("NT001",),
        ("NT003",),
        ("NT004",),
    ]
    assert query(settings, "select _row_number, reason from raw.rejected_rows") == [
        (3, "工单编号: key missing")
    ]
    # The bad optional values stay NULL in a loaded row, each with a warning naming its column.
    assert query(
        settings,
        "select received_at, caller_phone_pseudonym from raw.hotline_tickets where ticket_id = 'NT003'",
    ) == [(None, None)]
    warnings = query(
        settings,
        "select _row_number, column_name, reason from raw.row_warnings order by column_name",
    )
    assert warnings == [
        (4, "caller_phone", "来电号码: invalid phone number"),
        (4, "channel", "受理渠道: value not in the contract's list (kept)"),
        (4, "received_at", "来电时间: unreadable timestamp"),
    ]


def test_ledger_invariant_holds_for_every_file(tmp_path: Path, settings: Settings) -> None:
    landing = tmp_path / "landing" / "hotline"
    write_csv(landing / "12345_工单_20261003.csv", [hotline_row("NT001"), hotline_row("")])
    write_xlsx(landing / "12345_工单_202610.xlsx", [hotline_row("NT002"), hotline_row("NT003")])
    (landing / "empty.csv").write_bytes(b"")
    (landing / "~$lock.xlsx").write_bytes(b"office lock file")
    ingest_paths([tmp_path / "landing"], settings)
    rows = query(
        settings, "select file_name, rows_read, rows_loaded + rows_rejected from raw.load_ledger"
    )
    assert {r[0] for r in rows} == {
        "12345_工单_20261003.csv",
        "12345_工单_202610.xlsx",
        "empty.csv",
    }
    assert all(read == accounted for _, read, accounted in rows)
    assert query(settings, "select count(*) from raw.rejected_rows") == [(1,)]


def test_redelivering_identical_bytes_is_a_duplicate_no_op(
    tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(tmp_path / "12345_工单_20261003.csv", [hotline_row("NT001")])
    ingest_paths([path], settings)
    copy = tmp_path / "again" / "12345_工单_20261003(1).csv"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    results = ingest_paths([path, copy], settings)
    # The file itself is seen again (no ledger row); its copy under another name is a
    # duplicate delivery, recorded once: seeing the copy again adds nothing either.
    assert [r.status for r in results] == ["seen", "duplicate"]
    assert [r.status for r in ingest_paths([copy, path], settings)] == ["seen", "seen"]
    assert query(settings, "select count(*) from raw.hotline_tickets") == [(1,)]
    assert [r[1] for r in ledger(settings)] == ["loaded", "duplicate"]


def ledger_state(settings: Settings) -> list[tuple]:
    """Everything the ledger, the rejections and the warnings hold, but the clock."""
    return query(
        settings,
        "select file_name, file_path, file_sha256, file_bytes, entity, status, rows_read, "
        "rows_loaded, rows_rejected, rows_warned, reason, delivery_seq "
        "from raw.load_ledger order by delivery_seq",
    ) + query(
        settings,
        "select 'rejected', count(*) from raw.rejected_rows union all "
        "select 'warned', count(*) from raw.row_warnings",
    )


def test_ingesting_a_landing_folder_again_adds_no_ledger_row(
    tmp_path: Path, settings: Settings
) -> None:
    landing = tmp_path / "landing" / "hotline"
    good = write_csv(landing / "12345_工单_20261003.csv", [hotline_row("NT001"), hotline_row("")])
    write_csv(landing / "12345_工单_20261004.csv", [hotline_row("NT002", 来电号码="12")])
    (landing / "empty.csv").write_bytes(b"")  # rejected, with a hash
    (landing / "copy").mkdir()
    (landing / "copy" / "工单(1).csv").write_bytes(good.read_bytes())  # a duplicate
    os.mkfifo(landing / "pipe.csv")  # refused, without a hash
    first = ingest_paths([landing], settings)
    assert sorted(r.status for r in first) == [
        "duplicate",
        "loaded",
        "loaded",
        "rejected",
        "rejected",
    ]
    before = ledger_state(settings)
    for _day in range(2):  # a daily re-ingest of the same folder
        again = ingest_paths([landing], settings)
        assert [r.status for r in again] == ["seen"] * 5
        assert all(r.rows_read == 0 and "already in the ledger" in (r.reason or "") for r in again)
    assert ledger_state(settings) == before
    assert query(settings, "select count(*) from raw.hotline_tickets") == [(2,)]


def test_a_file_still_missing_on_a_rerun_is_recorded_missing_once(
    tmp_path: Path, settings: Settings
) -> None:
    gone = tmp_path / "landing" / "12345_工单_20261003.csv"
    for _run in range(2):  # e.g. a re-executed pipeline run naming the same file
        results = ingest_paths([gone], settings, missing_ok=True, landing=gone.parent)
    assert [r.status for r in results] == ["seen"]
    assert [r[1] for r in ledger(settings)] == ["missing"]
    write_csv(gone, [hotline_row("NT001")])  # it comes back, then goes again: both recorded
    ingest_paths([gone], settings, missing_ok=True, landing=gone.parent)
    gone.unlink()
    ingest_paths([gone], settings, missing_ok=True, landing=gone.parent)
    assert [r[1] for r in ledger(settings)] == ["missing", "loaded", "missing"]


def test_corrected_reexport_loads_as_a_later_delivery(tmp_path: Path, settings: Settings) -> None:
    path = write_csv(
        tmp_path / "12345_工单_20261003.csv", [hotline_row("NT001", 工单状态="办理中")]
    )
    ingest_paths([path], settings)
    write_csv(path, [hotline_row("NT001", 工单状态="已办结")])  # same name, corrected content
    ingest_paths([path], settings)
    versions = query(
        settings, "select status, _delivery_seq from raw.hotline_tickets order by _delivery_seq"
    )
    assert versions == [("办理中", 1), ("已办结", 2)]
    newest = query(
        settings,
        "select status from raw.hotline_tickets "
        "qualify row_number() over (partition by ticket_id order by updated_at desc, _delivery_seq desc) = 1",
    )
    assert newest == [("已办结",)]


def test_a_file_loads_whole_or_not_at_all(tmp_path: Path, settings: Settings) -> None:
    # A real constraint violation in the middle of the insert: DuckDB aborts, we roll back.
    from contracts.entities import entity
    from contracts.support_tables import ensure_raw_schema, raw_table_ddl

    settings.warehouse.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse))
    con.execute("create schema raw")
    poisoned = (
        raw_table_ddl(entity("hotline_tickets")).removesuffix("\n)")
        + ",\n check (ticket_id <> 'POISON'))"
    )
    con.execute(poisoned)
    ensure_raw_schema(con)
    con.close()
    path = write_csv(
        tmp_path / "12345_工单_20261003.csv", [hotline_row("NT001"), hotline_row("POISON")]
    )
    with pytest.raises(duckdb.ConstraintException):
        ingest_paths([path], settings)
    assert query(settings, "select count(*) from raw.hotline_tickets") == [(0,)]
    assert query(settings, "select count(*) from raw.load_ledger") == [(0,)]


def test_personal_data_is_pseudonymised_consistently_across_systems(
    tmp_path: Path, settings: Settings
) -> None:
    person = valid_id()
    worker = {
        "网格员编号": "W001",
        "姓名": "李四",
        "公民身份号码": person,
        "手机号码": "+86 139 1234 5678",
        "所属网格编码": "G001",
        "岗位": "专职",
        "入职日期": "2020-01-01",
        "状态": "在岗",
    }
    registration = {
        "登记编号": "R001",
        "姓名": "李四",
        "身份证号": person.lower(),
        "性别": "男",
        "出生日期": "1990-01-01",
        "居住地址": "崇川区工农路88号3-201",
        "登记时间": "2026-10-01 09:00",
        "联系电话": "13912345678",
    }
    ingest_paths(
        [
            write_csv(tmp_path / "网格_网格员_202610.csv", [worker]),
            write_csv(tmp_path / "公安_流动人口_20261003.csv", [registration]),
        ],
        settings,
    )
    ((w_id, w_phone, w_mask),) = query(
        settings,
        "select id_number_pseudonym, phone_pseudonym, id_number_masked from raw.grid_workers",
    )
    ((r_id, r_phone),) = query(
        settings, "select id_number_pseudonym, phone_pseudonym from raw.police_floating_population"
    )
    assert (w_id, w_phone) == (r_id, r_phone)
    assert w_mask == f"3206**********{person[-4:]}"
    columns = {
        r[0]
        for r in query(
            settings,
            "select column_name from information_schema.columns where table_schema = 'raw'",
        )
    }
    assert (
        not {"name", "caller_name", "landlord_name", "leader_name", "id_number", "phone"} & columns
    )


def test_times_are_filed_in_shanghai_whatever_the_machine_zone(
    tmp_path: Path, settings: Settings, monkeypatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    try:
        ingest_paths(
            [
                write_csv(
                    tmp_path / "12345_工单_20261031.csv",
                    [hotline_row("NT001", 来电时间="2026-10-31 23:59:59")],
                )
            ],
            settings,
        )
        ((received, ingested),) = query(
            settings, "select received_at, _ingested_at from raw.hotline_tickets"
        )
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert received == dt.datetime(2026, 10, 31, 23, 59, 59)
    shanghai_now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None)
    assert abs((shanghai_now - ingested).total_seconds()) < 600


def test_cli_prints_a_line_per_file_and_exits_1_when_a_file_is_rejected(
    tmp_path: Path, settings: Settings, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("PINGAN_DATA_DIR", str(settings.data_dir))
    landing = tmp_path / "landing"
    write_csv(landing / "12345_工单_20261003.csv", [hotline_row("NT001")])
    (landing / "junk.csv").write_bytes(b"\x00\x00\x00")
    assert pingan(["ingest", str(landing)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("loaded") and "12345_工单_20261003.csv" in out[0]
    assert out[1].startswith("rejected") and "junk.csv" in out[1] and "unreadable" in out[1]
    assert out[-1].startswith("total: 2 files (1 loaded, 0 duplicate, 1 rejected)")
    assert pingan(["ingest", str(landing / "12345_工单_20261003.csv")]) == 0
    assert pingan(["ingest", str(tmp_path / "missing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_a_file_vanishing_mid_run_is_recorded_missing_and_the_rest_load(
    tmp_path: Path, settings: Settings
) -> None:
    from ingest.load import BATCH_BYTES, iter_ingest

    landing = tmp_path / "landing"
    # Small files are read together, in windows; a file as large as a window is read in
    # one of its own, so the next file is still unread when the first is committed.
    filler = hotline_row("NT001", 诉求内容="长" * 2000)  # 4 kB a row in GB18030
    first = write_csv(landing / "12345_工单_20261003.csv", [filler] * (BATCH_BYTES // 4000))
    second = write_csv(landing / "12345_工单_20261004.csv", [hotline_row("NT002")])
    third = write_csv(landing / "12345_工单_20261005.csv", [hotline_row("NT003")])
    results = []
    for result in iter_ingest([landing], settings):  # files found before the first loads
        results.append(result)
        if result.file_name == first.name:
            second.unlink()  # withdrawn by the source system while the run goes on
    assert [(r.file_name, r.status) for r in results] == [
        (first.name, "loaded"),
        (second.name, "missing"),
        (third.name, "loaded"),
    ]
    assert query(
        settings,
        "select file_name, file_sha256, file_bytes, rows_read, reason like '%vanished%' "
        "from raw.load_ledger where status = 'missing'",
    ) == [(second.name, None, None, 0, True)]
    assert query(settings, "select distinct ticket_id from raw.hotline_tickets order by 1") == [
        ("NT001",),
        ("NT003",),
    ]


def test_a_ledger_from_before_the_missing_status_accepts_it(
    tmp_path: Path, settings: Settings
) -> None:
    from contracts.support_tables import LEDGER_DDL

    settings.warehouse.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse))
    con.execute("create schema raw")
    con.execute(LEDGER_DDL.replace("file_sha256   varchar,", "file_sha256   varchar not null,"))
    con.close()
    gone = tmp_path / "12345_工单_20261003.csv"
    results = ingest_paths([gone], settings, missing_ok=True)
    assert [r.status for r in results] == ["missing"]
    assert query(settings, "select count(*) from raw.load_ledger where file_sha256 is null") == [
        (1,)
    ]


def test_small_files_typed_together_load_as_each_would_alone(
    tmp_path: Path, settings: Settings
) -> None:
    folder = tmp_path / "in"
    files = [
        write_csv(folder / "12345_工单_20261001.csv", [hotline_row("NT1"), hotline_row("")]),
        write_csv(folder / "12345_工单_20261002.csv", [hotline_row("NT2", 来电号码="12")]),
        write_csv(folder / "12345_工单_20261003.csv", [hotline_row("NT3", 来电时间="昨天")]),
        write_csv(folder / "12345_工单_20261004.csv", [hotline_row("NT4", 受理渠道="飞鸽")]),
        write_xlsx(folder / "12345_工单_202610.xlsx", [hotline_row("NT5"), hotline_row("NT1")]),
    ]
    (folder / "12345_工单_20261005.csv").write_bytes(files[0].read_bytes())  # a duplicate
    together = ingest_paths([folder], settings)  # one window
    alone = Settings(data_dir=tmp_path / "alone", warehouse=tmp_path / "alone" / "w.duckdb")
    for path in sorted(folder.iterdir()):
        ingest_paths([path], alone)
    tables = {
        "raw.load_ledger": "* exclude (ingested_at)",
        "raw.hotline_tickets": "* exclude (_ingested_at)",
        "raw.rejected_rows": "*",
        "raw.row_warnings": "*",
    }
    for table, columns in tables.items():
        sql = f"select {columns} from {table} order by all"
        assert query(settings, sql) == query(alone, sql), table
    assert sorted(r.status for r in together) == ["duplicate"] + ["loaded"] * 5
    assert query(settings, "select count(*) from raw.row_warnings") != [(0,)]
