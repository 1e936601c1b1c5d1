"""Records every fault and abuse test's outcome in ``test-artifacts/faults.json``.

Registered from the root conftest (``pytest_plugins = ["tests.faults._report_plugin"]``).
Each test of the fault suite maps to one row {fault, checked, result}; the rows are
written at session end and ``python -m tests.faults.report`` renders them into README.
A test of the suite missing from :data:`ROWS` still gets a row (its name as the fault),
so the table never silently drops a test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-artifacts" / "faults.json"
SUITE = "tests/faults/"
NOT_FAULTS = ("tests/faults/test_report.py",)  # the renderer's own tests

# test function name (without parameters) -> (fault or attack, what was checked)
ROWS: dict[str, tuple[str, str]] = {
    # the lead's ingest faults
    "test_sigkill_mid_ingest_then_rerun_equals_an_uninterrupted_run": (
        "进程在 ingest 中途被 SIGKILL",
        "rerun leaves ledger and raw tables equal to an uninterrupted run",
    ),
    "test_corrupt_inputs_get_a_clear_reason_and_other_files_load_whole": (
        "损坏的输入文件 (corrupt inputs)",
        "each bad file rejected with a clear reason; the other files load whole",
    ),
    "test_out_of_order_days_keep_the_newest_version": (
        "乱序到达的日文件 (out-of-order days)",
        "the newest version per key wins whatever the delivery order",
    ),
    "test_disk_full_fails_clearly_and_keeps_the_files_already_loaded": (
        "ingest 时磁盘写满 (tmpfs)",
        "one-line error, no traceback; files already loaded stay loaded",
    ),
    "test_timestamp_parsers_never_raise": (
        "解析器模糊测试: 时间",
        "random text never raises, gives a timestamp or null; the column fast path agrees "
        "(2,000 lists of up to 20 values)",
    ),
    "test_number_parsers_never_raise": ("解析器模糊测试: 数值", "random text never raises"),
    "test_id_and_phone_parsers_never_raise_and_return_valid_forms": (
        "解析器模糊测试: 身份证号/手机号",
        "never raises; returns only valid forms or null",
    ),
    "test_address_normalisation_never_raises_and_is_idempotent": (
        "解析器模糊测试: 地址",
        "never raises; normalising twice changes nothing (2,000 lists of up to 20 values)",
    ),
    "test_header_matching_never_raises": (
        "解析器模糊测试: 表头",
        "random header cells never raise",
    ),
    "test_whole_file_reader_raises_only_the_typed_rejection": (
        "解析器模糊测试: 整个文件",
        "random bytes raise only the typed rejection",
    ),
    "test_csv_with_a_real_header_and_fuzzed_rows_raises_only_the_typed_rejection": (
        "解析器模糊测试: 真表头+随机行",
        "raises only the typed rejection",
    ),
    # hostile deliveries (tests/faults/test_hostile_files.py)
    "test_a_hostile_landing_folder_leaves_a_ledger_row_per_path_and_the_run_completes": (
        "恶意投递目录 (13 种攻击文件与正常文件混放)",
        "the Dagster ingest run completes; every path has one ledger row; good files load; "
        "a rerun finds nothing new",
    ),
    "test_an_xlsx_declaring_the_whole_sheet_is_rejected_before_it_is_read": (
        "XLSX 声明整张表 (dimension A1:XFD1048576)",
        "rejected from the zip inspection with the limit named; nothing allocated",
    ),
    "test_an_xlsx_that_crashes_the_reader_natively_is_rejected_and_the_batch_goes_on": (
        "XLSX 让读取库原生崩溃 (单元格位于 XFD1048576, SIGABRT)",
        "the worker's crash becomes a rejected ledger row with its one-line reason; "
        "later files load in a fresh worker",
    ),
    "test_a_huge_shared_string_is_refused_before_the_reader_loads_it": (
        "XLSX 中的超长共享字符串",
        "rejected from the shared-string scan (limit max_cell_chars), never loaded",
    ),
    "test_a_shared_string_over_the_limit_is_refused_from_the_zip_alone": (
        "共享字符串长度检查 (流式, 不保留文本)",
        "the zip inspection alone names the string and the limit",
    ),
    "test_a_csv_field_over_pythons_csv_limit_loads_without_a_traceback": (
        "CSV 前 256 KiB 内超过 131,072 字符的字段",
        "no traceback; the row loads whole",
    ),
    "test_a_record_over_the_size_limit_is_rejected_with_its_line_never_lost": (
        "CSV 超长记录",
        "rejected with its line number in raw.rejected_rows; read = loaded + rejected",
    ),
    "test_a_record_longer_than_duckdbs_buffer_is_counted_not_dropped": (
        "CSV 记录超过 DuckDB 缓冲区 (原先静默消失)",
        "counted and rejected with its line; the other rows keep their line numbers",
    ),
    "test_symlinks_out_of_the_landing_folder_are_refused_never_followed": (
        "落地目录中指向外部的符号链接 (含 /etc/passwd)",
        "refused with a ledger row; target neither read, stat'ed nor recorded",
    ),
    "test_a_fifo_in_the_landing_folder_is_refused_without_being_opened": (
        "落地目录中的 FIFO",
        "refused from lstat, never opened; the run does not block",
    ),
    "test_a_file_name_that_is_not_utf8_gets_a_ledger_row_with_its_escaped_name": (
        "非 UTF-8 文件名",
        "a rejected ledger row under the escaped name",
    ),
    "test_a_landing_tree_1200_folders_deep_is_cut_at_the_depth_limit": (
        "1,200 层深的落地目录树",
        "iterative walk; the folder at the depth limit gets a ledger row; no traceback",
    ),
    "test_control_characters_in_a_file_name_are_escaped_on_the_command_line": (
        "文件名中的控制字符 (伪造 loaded 行)",
        "printed escaped: the name forges no line on the terminal",
    ),
    "test_a_refused_path_named_on_the_command_line_is_a_one_line_error": (
        "命令行指定 FIFO",
        "a one-line error, exit 2, nothing opened",
    ),
    "test_a_hung_reader_is_killed_at_its_time_limit_and_the_next_file_loads": (
        "读取库挂起",
        "the worker is killed at its time limit (a rejection); the next file loads",
    ),
    "test_a_reader_over_its_memory_limit_is_rejected_not_the_batch": (
        "读取超出内存上限",
        "RLIMIT_AS in the worker turns it into a rejection; the next file loads",
    ),
    # pipeline faults (tests/faults/test_pipeline_faults.py)
    "test_sigkill_mid_dbt_build_then_rerun_equals_an_uninterrupted_build": (
        "进程在 dbt build 中途被 SIGKILL",
        "ledger and raw tables unchanged; after a rerun the marts equal an uninterrupted build",
    ),
    "test_sigkill_mid_publish_never_leaves_a_half_written_snapshot": (
        "进程在发布中途被 SIGKILL",
        "published snapshot stays the previous whole version; a rerun publishes a new one",
    ),
    "test_a_growing_file_is_not_loaded_until_it_has_settled": (
        "传感器看到仍在写入的文件",
        "sensor requests no run while the file grows; requests it whole once settled",
    ),
    "test_a_file_removed_after_being_seen_is_recorded_missing_and_the_rest_loads": (
        "文件在被看到后被删除",
        "the requested run records it as missing in the ledger and loads the other files; "
        "delivered again, it loads",
    ),
    "test_a_mistyped_path_on_the_command_line_is_still_an_error": (
        "命令行中写错的文件路径",
        "a clear error naming the path; nothing written",
    ),
    "test_disk_full_while_publishing_fails_clearly_and_keeps_the_previous_snapshot": (
        "发布时磁盘写满 (tmpfs)",
        "publish fails with one Pingan line (also in the Dagster run summary); the previous "
        "snapshot stays readable; no temp left",
    ),
    "test_concurrent_readers_see_whole_snapshots_while_runs_publish": (
        "并发读取 (看板数据模块 + DuckDB CLI + 独立 Python 读进程) 与 7 次发布",
        "zero lock errors, every read sees one whole version; the CLI sessions follow the "
        "publishes",
    ),
    # clock (tests/faults/test_clock_faults.py)
    "test_a_machine_outside_shanghai_files_every_time_in_shanghai": (
        "机器时钟不在上海时区 (TZ=UTC / America/Los_Angeles)",
        "ingest stamps Shanghai time; 10-31 23:59:59 lands in October, 11-01 00:00:00 in "
        "November; dbt's DuckDB session is in Asia/Shanghai",
    ),
    # abuse (tests/faults/test_abuse.py)
    "test_sql_injection_payloads_in_every_filter_change_no_query_meaning": (
        "SQL 注入: 每个看板筛选与查询参数",
        "classic payloads and quoted Chinese text return what a harmless unknown value returns",
    ),
    "test_sql_injection_through_url_query_parameters_changes_nothing": (
        "SQL 注入: 页面 URL 参数",
        "every page renders without a query error; the lead page shows nothing",
    ),
    "test_an_officer_crafting_a_district_parameter_reads_only_the_own_district": (
        "区县人员篡改参数读取其他区县",
        "every district query returns only the own district's rows",
    ),
    "test_an_officer_opening_another_districts_lead_is_denied_and_logged": (
        "区县人员读取辖区外线索",
        "denied; access log records the refusal",
    ),
    "test_an_officer_opening_the_data_quality_page_is_denied_and_logged": (
        "区县人员打开数据质量页",
        "denied by the page's role check though hidden from the menu; every data-quality "
        "function refuses; the access log records the refusal",
    ),
    # dashboards abuse (tests/faults/test_abuse_dashboards.py, test_abuse_browser.py)
    "test_markdown_and_html_in_data_and_url_parameters_render_as_text": (
        "看板: 数据与 URL 参数中的 Markdown/HTML",
        "payloads in every text column and URL parameter: no markdown-rendered text of any "
        "page (titles, captions, alerts, metrics, labels) renders a link, image or HTML",
    ),
    "test_markdown_from_data_and_the_url_draws_no_link_or_image_in_the_browser": (
        "看板: 线索页地址含 Markdown 链接/图片 (浏览器)",
        "no <a>/<img> from data or ?lead= in the DOM; no remote image requested",
    ),
    "test_formula_like_values_are_text_in_every_export": (
        "导出: 以 = + - @ 制表符 回车 开头的值",
        "Excel: string cells with quote prefix, no formula or link; CSV: a leading quote",
    ),
    "test_a_page_run_builds_no_export_file_and_logs_no_export": (
        "导出: 页面运行即生成导出文件",
        "no file and no media URL before the click; no export row in the access log",
    ),
    "test_an_export_exists_only_after_its_logged_click_and_only_for_the_login": (
        "导出: 无 Cookie 获取媒体地址 / 表格自带 CSV 下载 (浏览器)",
        "the click writes the access-log row; the file URL answers 403 without the login's "
        "cookie; the tables have no CSV download; exported formulas are text",
    ),
    "test_repeated_wrong_passwords_lock_the_name_and_every_attempt_is_logged": (
        "登录: 连续错误密码",
        "each failure delayed; locked at the configured count, the right password then "
        "refused; other names unaffected; every attempt in the access log",
    ),
    "test_fifty_wrong_passwords_lock_the_name_and_every_attempt_is_logged": (
        "登录: 50 次错误密码后输入正确密码 (浏览器)",
        "refused as locked; 5 failures, the lockout and 46 locked attempts logged",
    ),
    "test_a_session_idle_past_the_timeout_must_log_in_again": (
        "登录: 会话闲置超时",
        "after the idle timeout the page shows the login form; the expiry is logged",
    ),
    "test_a_session_id_replayed_from_another_browser_resumes_no_login": (
        "会话 ID 在另一浏览器重放 (浏览器)",
        "the other browser gets the login form; the owner's login goes on",
    ),
    "test_no_endpoint_answers_without_a_login_beyond_the_login_page_and_static_assets": (
        "未登录访问 /_stcore/metrics、上传、agent、/media 等端点",
        "closed (404/403); health and host-config only; websocket refused without a "
        "server-signed HttpOnly cookie",
    ),
    "test_an_officer_sees_no_figure_computed_from_other_districts_rows": (
        "区县人员由同级平均反推其他区县",
        "level averages and lead ranks over the own district only; the published ranking "
        "is the city's",
    ),
    "test_figures_left_out_of_the_published_list_are_withheld_from_officers": (
        "未公布的全市指标",
        "an officer is refused the index when the config does not publish it city-wide",
    ),
    "test_no_clear_id_or_mobile_number_in_anything_pingan_writes": (
        "扫描 Pingan 写出的一切 (仓库/快照/日志/GX 结果/Dagster 存储)",
        "no clear ID number or mobile number from the sample is found",
    ),
    "test_the_file_scan_finds_a_planted_leak": (
        "扫描自检: 植入的泄漏",
        "the file scan finds a clear number planted in a log, even written with spaces",
    ),
    "test_a_number_typed_into_any_text_column_is_masked_in_the_warehouse": (
        "身份证号/手机号录入任一文本列 (地址、内容、单位…，空格/横线/全角/+86/连写)",
        "every row loaded; no clear number in any warehouse column (one row per text column, "
        "every entity)",
    ),
    "test_the_report_table_replaces_only_the_text_between_the_markers": (
        "报告生成自检",
        "the README table is rendered between the markers only",
    ),
}

_results: dict[str, str] = {}


def _name(item: pytest.Item) -> str:
    return getattr(item, "originalname", None) or item.name.split("[")[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if not item.nodeid.startswith(SUITE) or item.nodeid.startswith(NOT_FAULTS):
        return report
    name = _name(item)
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if hasattr(report, "wasxfail"):
            outcome = "xfail (known bug)" if report.skipped else "xpassed"
        elif report.skipped:
            outcome = "skipped"
        else:
            outcome = report.outcome
        previous = _results.get(name)
        # a parametrised test passes only when every case passes
        if previous in (None, "passed") or outcome == "failed":
            _results[name] = outcome
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _results or os.environ.get("PYTEST_XDIST_WORKER"):
        return _merge_worker_results(session)
    _write(_results)


def _merge_worker_results(session: pytest.Session) -> None:
    # Under xdist each worker reports its own tests: workers write partial files that
    # the controller merges (it has no results of its own).
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    partial = OUTPUT.parent / f".faults.{worker}.json" if worker else None
    if partial is not None:
        if _results:
            partial.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps(_results), encoding="utf-8")
        return
    merged: dict[str, str] = {}
    for part in sorted(OUTPUT.parent.glob(".faults.*.json")):
        for name, outcome in json.loads(part.read_text(encoding="utf-8")).items():
            if merged.get(name) in (None, "passed") or outcome == "failed":
                merged[name] = outcome
        part.unlink()
    if merged:
        _write(merged)


def _write(results: dict[str, str]) -> None:
    known = [n for n in ROWS if n in results]
    extra = sorted(n for n in results if n not in ROWS)
    rows = [
        {
            "test": n,
            "fault": ROWS.get(n, (n, ""))[0],
            "checked": ROWS.get(n, (n, ""))[1],
            "result": results[n],
        }
        for n in known + extra
    ]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
