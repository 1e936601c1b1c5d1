"""The synthetic city generator: reproducibility, quirks, validity, consistency, planted truth.

Uses the session sample of ``tests/conftest.py`` (scale ``test``, 3 months, seed 7).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from contracts.entities import ENTITIES_BY_NAME
from simulator import generate
from simulator.cli import run_sample
from simulator.deliver import EXTRA_COLUMNS
from simulator.people import checksum_char
from tests.conftest import TEST_END, TEST_MONTHS, TEST_SCALE, TEST_SEED
from tests.simulator.conftest import HEADER_INDEX, Delivered, norm_header

DAILY = (
    "hotline_tickets",
    "grid_events",
    "police_incidents",
    "police_cases",
    "police_floating_population",
    "police_rental_checks",
    "rental_hazards",
)
TS_FORMS = {
    "iso": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
    "slash": r"^\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}$",
    "chinese": r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$",
    "compact": r"^\d{14}$",
    "minutes": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$",
    "date_only": r"^\d{4}-\d{2}-\d{2}$",
    "excel_serial": r"^4\d{4}(\.\d+)?$",
}


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def parse_ts(v: str | None) -> dt.datetime | None:
    """Every timestamp form the generator writes (for rate checks)."""
    if v is None:
        return None
    v = unicodedata.normalize("NFKC", v).strip()
    if v in ("", "-", "无", "/"):
        return None
    if re.fullmatch(r"4\d{4}(\.\d+)?", v):
        return dt.datetime(1899, 12, 30) + dt.timedelta(days=float(v))
    for fmt in (
        "%Y-%m-%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y年%m月%d日 %H:%M",
        "%Y%m%d%H%M%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
    ):
        try:
            return dt.datetime.strptime(v, fmt)
        except ValueError:
            continue
    raise AssertionError(f"unparseable timestamp {v!r}")


def latest(frame: pl.DataFrame, key: str, version: str = "updated_at") -> pl.DataFrame:
    """Newest row per key by the version column, later files (corrections) winning ties."""
    ts = [parse_ts(v) for v in frame[version].to_list()]
    return (
        frame.with_columns(_v=pl.Series(ts, dtype=pl.Datetime("us")))
        .filter(pl.col(key).str.strip_chars() != "")
        .sort("_v", "_corrected", maintain_order=True)
        .unique(key, keep="last")
    )


def ids(frame: pl.DataFrame, col: str) -> set[str]:
    s = frame[col].str.strip_chars()
    return set(s.filter(s.is_not_null() & ~s.is_in(["", "-", "无", "/"])).to_list())


# --- reproducibility -------------------------------------------------------------------------


def test_same_seed_gives_same_bytes_and_another_seed_does_not(sample_root: Path, tmp_path: Path):
    again = tmp_path / "again"
    generate(again, scale=TEST_SCALE, months=TEST_MONTHS, seed=TEST_SEED, end=TEST_END)
    assert digests(again) == digests(sample_root)
    other = tmp_path / "other"
    generate(other, scale=TEST_SCALE, months=TEST_MONTHS, seed=TEST_SEED + 1, end=TEST_END)
    a, b = digests(sample_root), digests(other)
    same = [k for k in a.keys() & b.keys() if a[k] == b[k]]
    assert len(same) < 0.05 * len(a)


def test_regenerating_into_the_same_folder_leaves_no_stale_files(tmp_path: Path):
    generate(tmp_path, scale=TEST_SCALE, months=1, seed=1, end=TEST_END)
    generate(tmp_path, scale=TEST_SCALE, months=1, seed=2, end=TEST_END)
    manifest = json.loads((tmp_path / "truth" / "manifest.json").read_text(encoding="utf-8"))
    on_disk = {
        str(p.relative_to(tmp_path)) for p in (tmp_path / "landing").rglob("*") if p.is_file()
    }
    assert on_disk == set(manifest["all_files"])


# --- files, formats, headers -----------------------------------------------------------------


def test_files_sit_in_their_system_folder_named_by_prefix_and_date(delivered: list[Delivered]):
    renamed = 0
    for d in delivered:
        system_dir = (
            d.path.parent.parent if d.path.parent.name in ("补发", "重发") else d.path.parent
        )
        assert system_dir.name == d.entity.system, d.path
        if re.fullmatch(
            rf"{re.escape(d.entity.file_prefix)}_\d{{4}}(\d{{2}}(\d{{2}})?|Q\d)", d.path.stem
        ):
            continue
        renamed += 1
    assert 3 <= renamed <= 0.1 * len(delivered)
    # Some renamed files carry no entity token at all: only the header tells.
    tokens = {t for e in ENTITIES_BY_NAME.values() for t in e.file_tokens}
    assert any(not any(t in d.path.name for t in tokens) for d in delivered)


def test_headers_come_from_the_contract_with_aliases_brackets_spaces_and_extras(
    delivered: list[Delivered],
):
    extras = {name for name, _ in EXTRA_COLUMNS}
    seen = Counter()
    for d in delivered:
        index = HEADER_INDEX[d.entity.name]
        for h in d.headers:
            assert norm_header(h) in index or h in extras, (d.path, h)
            col = next(
                (
                    c
                    for c in d.entity.columns
                    if norm_header(h) in {norm_header(x) for x in c.headers}
                ),
                None,
            )
            if col and norm_header(h) in {norm_header(a) for a in col.aliases}:
                seen["alias"] += 1
            if "（" in h:
                seen["fullwidth_bracket"] += 1
            if h != h.strip():
                seen["spaced"] += 1
            if h in extras:
                seen["extra"] += 1
        canon = [HEADER_INDEX[d.entity.name].get(norm_header(h)) for h in d.headers]
        order = [c.canonical for c in d.entity.columns]
        if [c for c in canon if c] != order:
            seen["reordered"] += 1
    assert all(
        seen[k] > 0 for k in ("alias", "fullwidth_bracket", "spaced", "extra", "reordered")
    ), seen


def test_formats_and_encodings_all_occur_with_gb18030_csv_most_common(
    delivered: list[Delivered],
):
    kinds = Counter((d.fmt, d.encoding) for d in delivered)
    for k in (
        ("csv", "gb18030"),
        ("csv", "utf-8-sig"),
        ("csv", "utf-8"),
        ("tsv", "gb18030"),
        ("xlsx", ""),
    ):
        assert kinds[k] > 0, kinds
    assert kinds[("csv", "gb18030")] == max(kinds.values())
    xlsx = [d for d in delivered if d.fmt == "xlsx"]
    assert any(d.title and d.title.startswith("南通市") for d in xlsx)
    assert any(d.total_row for d in xlsx)
    assert any("说明" in d.sheets for d in xlsx)


# --- value quirks ----------------------------------------------------------------------------


def _cells(frames: dict[str, pl.DataFrame], kind: str) -> list[str]:
    out: list[str] = []
    for name, f in frames.items():
        for col in ENTITIES_BY_NAME[name].columns:
            if col.kind == kind and col.canonical in f.columns:
                out += [v for v in f[col.canonical].to_list() if v is not None]
    return out


def test_timestamps_occur_in_every_contract_form_including_excel_serials(
    frames: dict[str, pl.DataFrame],
):
    cells = _cells(frames, "timestamp")
    forms = {name: sum(bool(re.match(rx, v)) for v in cells) for name, rx in TS_FORMS.items()}
    assert all(n > 0 for n in forms.values()), forms
    assert forms["iso"] > 0.3 * len(cells)


def test_numbers_carry_fullwidth_digits_units_and_separators(frames: dict[str, pl.DataFrame]):
    area = frames["rental_houses"]["floor_area_m2"].drop_nulls().to_list()
    assert any(v.endswith("㎡") for v in area) and any(v.endswith("平方米") for v in area)
    numbers = _cells(frames, "integer") + _cells(frames, "decimal")
    assert any(re.search("[０-９]", v) for v in numbers)
    pop = frames["grid_grids"]["population"].drop_nulls().to_list()
    assert any(re.fullmatch(r"\d{1,3},\d{3}", v) for v in pop)


def test_missing_values_use_every_marker(frames: dict[str, pl.DataFrame]):
    closed = frames["hotline_tickets"]["closed_at"].to_list()
    markers = Counter(v for v in closed if v in ("", "-", "无", "/") or v is None)
    assert all(markers[m] > 0 for m in ("", "-", "无", "/")), markers


def test_phones_occur_in_every_contract_form(frames: dict[str, pl.DataFrame]):
    phones = _cells(frames, "phone")
    assert any(re.fullmatch(r"1\d{10}", p) for p in phones)
    assert any(re.fullmatch(r"\+86 1\d{2} \d{4} \d{4}", p) for p in phones)
    assert any(re.fullmatch(r"1\d{2}-\d{4}-\d{4}", p) for p in phones)
    assert any(re.fullmatch(r"0513-8\d{7}", p) for p in phones)


def test_some_hotline_content_embeds_a_phone_number(frames: dict[str, pl.DataFrame]):
    content = frames["hotline_tickets"]["content"].drop_nulls()
    share = content.str.contains(r"联系电话1\d{10}").mean()
    assert 0.005 < share < 0.1


def test_addresses_of_one_dwelling_vary_in_form(frames: dict[str, pl.DataFrame]):
    addr = pl.concat(
        [
            frames[n]["address"]
            for n in ("hotline_tickets", "grid_events", "police_floating_population")
        ]
    )
    addr = addr.drop_nulls()
    assert addr.str.starts_with("江苏省南通市").any()
    assert addr.str.contains(r"\d+-\d+$").any()
    assert addr.str.contains(r" 号 \d+ 栋 ").any()
    assert addr.str.contains("[０-９]").any()
    assert (~addr.str.contains("南通市")).any()


# --- ID numbers ------------------------------------------------------------------------------


def test_id_numbers_are_valid_but_for_a_few_legacy_and_broken_ones(
    frames: dict[str, pl.DataFrame],
):
    numbers = [v for v in _cells(frames, "id_number") if v]
    eighteen = [v.upper() for v in numbers if len(v) == 18]
    valid = [v for v in eighteen if checksum_char(v[:17]) == v[17]]
    legacy = [v for v in numbers if re.fullmatch(r"\d{15}", v)]
    broken = len(eighteen) - len(valid)
    assert len(valid) >= 0.97 * len(numbers)
    assert 1 <= len(legacy) <= 0.03 * len(numbers)
    assert 1 <= broken <= 0.02 * len(numbers)
    assert any(v.endswith("x") for v in numbers) and any(v.endswith("X") for v in numbers)
    # Plausible birth dates, local landlords' region prefixes.
    births = [dt.datetime.strptime(v[6:14], "%Y%m%d") for v in valid]
    assert all(1930 <= b.year <= 2008 for b in births)
    landlords = frames["rental_houses"]["landlord_id_number"].drop_nulls()
    assert landlords.str.starts_with("3206").mean() > 0.95


# --- rows ------------------------------------------------------------------------------------


def test_rows_repeat_within_a_file_and_a_few_keys_are_missing(delivered: list[Delivered]):
    rows = dups = missing = 0
    for d in delivered:
        if d.entity.name not in DAILY:
            continue
        f = d.frame()
        key = d.entity.key[0]
        rows += f.height
        dups += f.height - f.unique().height
        missing += int((f[key].fill_null("").str.strip_chars() == "").sum())
        # Apart from exact duplicate rows, a file holds each record once.
        keyed = f.unique().filter(pl.col(key).fill_null("").str.strip_chars() != "")
        assert keyed[key].n_unique() == keyed.height, d.path
    assert 1 <= dups <= 0.01 * rows
    assert 2 <= missing <= 0.01 * rows


def test_status_changes_are_reexported_in_later_files(frames: dict[str, pl.DataFrame]):
    t = frames["hotline_tickets"].filter(~pl.col("_corrected"))
    per = t.group_by("ticket_id").agg(
        pl.col("status").str.strip_chars().n_unique().alias("k"),
        pl.col("_file").n_unique().alias("f"),
    )
    assert per.filter((pl.col("k") > 1) & (pl.col("f") > 1)).height > 0.3 * per.height


def test_corrected_reexports_fix_some_values_of_their_original(sample_root: Path):
    from tests.simulator.conftest import read_delivered

    corrected = list((sample_root / "landing").rglob("补发/*"))
    assert len(corrected) >= 3
    for fixed_path in corrected:
        original = read_delivered(fixed_path.parent.parent / fixed_path.name).frame()
        fixed = read_delivered(fixed_path).frame()
        assert original.height == fixed.height
        key = read_delivered(fixed_path).entity.key[0]
        assert original[key].to_list() == fixed[key].to_list()
        assert not original.equals(fixed), fixed_path
        assert (
            fixed_path.stat().st_mtime
            > (fixed_path.parent.parent / fixed_path.name).stat().st_mtime
        )


def test_redelivered_files_are_byte_identical_copies(sample_root: Path):
    copies = list((sample_root / "landing").rglob("重发/*"))
    assert copies
    for p in copies:
        assert p.read_bytes() == (p.parent.parent / p.name).read_bytes()


# --- referential consistency -----------------------------------------------------------------


def test_references_between_systems_resolve(frames: dict[str, pl.DataFrame]):
    grids = ids(frames["grid_grids"], "grid_code")
    workers = ids(frames["grid_workers"], "worker_id")
    houses = ids(frames["rental_houses"], "house_id")
    tickets = ids(frames["hotline_tickets"], "ticket_id")
    events = frames["grid_events"]
    assert ids(events, "grid_code") <= grids
    assert ids(events, "reporter_id") <= workers
    assert ids(frames["grid_workers"], "grid_code") <= grids
    assert ids(events, "hotline_ticket_id") <= tickets
    assert ids(events, "hotline_ticket_id")  # transfers exist
    assert ids(frames["rental_hazards"], "house_id") <= houses
    assert ids(frames["police_rental_checks"], "house_id") <= houses
    assert ids(frames["police_floating_population"], "house_id") <= houses
    case_districts = ids(frames["police_cases"], "district")
    assert case_districts <= ids(frames["reference_population"], "district")


def test_address_links_point_to_delivered_records_and_houses(
    sample_root: Path, frames: dict[str, pl.DataFrame]
):
    links = pl.read_csv(sample_root / "truth" / "address_links.csv", infer_schema=False)
    houses = ids(frames["rental_houses"], "house_id")
    assert set(links["house_id"].to_list()) <= houses
    for name, part in links.partition_by("entity", as_dict=True).items():
        ent = ENTITIES_BY_NAME[name[0]]
        delivered_ids = ids(frames[ent.name], ent.key[0])
        missing = set(part["record_id"].to_list()) - delivered_ids
        # A record can be lost only when its only row had its key blanked.
        assert len(missing) <= 0.02 * part.height + 2, (name, len(missing))
    assert set(links["entity"].unique().to_list()) >= {
        "hotline_tickets",
        "grid_events",
        "police_incidents",
        "police_floating_population",
        "rental_hazards",
        "police_rental_checks",
    }


# --- planted truth ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def truth(sample_root: Path) -> pl.DataFrame:
    return pl.read_csv(sample_root / "truth" / "group_rental_truth.csv", infer_schema=False)


def test_truth_lists_planted_houses_of_every_kind(
    truth: pl.DataFrame, sample_root: Path, frames: dict[str, pl.DataFrame]
):
    assert truth.columns == ["house_id", "label", "kind"]
    kinds = Counter(zip(truth["label"].to_list(), truth["kind"].to_list(), strict=True))
    assert (
        kinds[("group_rental", "overcrowded")] + kinds[("group_rental", "under_registered")] >= 10
    )
    for k in (
        "large_family",
        "staff_dormitory",
        "student_housing",
        "quarrelsome_neighbour",
        "typo_address",
        "flat_share",
    ):
        assert kinds[("confounder", k)] >= 3, k
    assert set(truth["house_id"].to_list()) <= ids(frames["rental_houses"], "house_id")
    manifest = json.loads((sample_root / "truth" / "manifest.json").read_text(encoding="utf-8"))
    assert sum(manifest["planted"].values()) == truth.height
    assert manifest["seed"] == TEST_SEED and manifest["deteriorations"]
    assert (sample_root / "truth" / "README.md").read_text(encoding="utf-8").startswith("#")


def _world(sample_root: Path) -> dict[str, dict[str, float]]:
    body = json.loads((sample_root / "truth" / "world.json").read_text(encoding="utf-8"))
    return body["assumptions"]


def _registry(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    r = latest(frames["rental_houses"], "house_id")
    return r.with_columns(
        tenants=pl.col("registered_tenants").str.replace_all(r"\D", "").cast(pl.Int64, strict=False)
    )


def test_planted_group_rentals_carry_the_planted_signals(
    truth: pl.DataFrame, sample_root: Path, frames: dict[str, pl.DataFrame]
):
    links = pl.read_csv(sample_root / "truth" / "address_links.csv", infer_schema=False)
    reg = (
        _registry(frames)
        .join(truth, on="house_id", how="left")
        .with_columns(pl.col("label").fill_null("normal"))
    )
    over = reg.filter(pl.col("kind") == "overcrowded")["tenants"]
    under = reg.filter(pl.col("kind") == "under_registered")["tenants"]
    gr = _world(sample_root)["group_rental"]
    lo = gr["overcrowded_tenants_min"]
    assert lo >= 6 and over.min() >= lo and over.max() <= lo + gr["overcrowded_tenants_span"]
    assert under.max() <= 2
    regs = links.filter(pl.col("entity") == "police_floating_population").group_by("house_id").len()
    per = reg.join(regs, on="house_id", how="left").with_columns(pl.col("len").fill_null(0))
    mean = dict(per.group_by("label").agg(pl.col("len").mean()).iter_rows())
    assert mean["group_rental"] > 5 * mean["normal"]
    # Each signal is noisy, yet most group rentals show at least two kinds of signal.
    kinds_per_house = (
        links.join(truth.filter(pl.col("label") == "group_rental"), on="house_id")
        .group_by("house_id")
        .agg(pl.col("entity").n_unique())
    )
    assert (
        kinds_per_house.filter(pl.col("entity") >= 2).height
        >= 0.6 * truth.filter(pl.col("label") == "group_rental").height
    )
    # Police checks mostly confirm planted group rentals, and rarely anything else.
    checks = frames["police_rental_checks"].join(reg.select("house_id", "label"), on="house_id")
    by = checks.group_by("label").agg((pl.col("verdict").str.strip_chars() == "确认群租").mean())
    rate = dict(by.iter_rows())
    assert rate["group_rental"] > 0.6 and rate.get("normal", 0) < 0.15


def test_confounders_look_suspicious_in_one_way_only(
    truth: pl.DataFrame, sample_root: Path, frames: dict[str, pl.DataFrame]
):
    reg = _registry(frames).join(truth, on="house_id")
    assert reg.filter(pl.col("kind") == "staff_dormitory")["tenants"].min() >= 12
    assert reg.filter(pl.col("kind") == "large_family")["tenants"].min() >= 6
    # The quarrelsome neighbour: one phone complaining again and again about the house.
    links = pl.read_csv(sample_root / "truth" / "address_links.csv", infer_schema=False)
    q = truth.filter(pl.col("kind") == "quarrelsome_neighbour")
    t = (
        latest(frames["hotline_tickets"], "ticket_id")
        .join(
            links.filter(pl.col("entity") == "hotline_tickets"),
            left_on="ticket_id",
            right_on="record_id",
        )
        .join(q, on="house_id")
    )
    phones = t.group_by("house_id").agg(
        pl.col("caller_phone").str.replace_all(r"\D", "").str.slice(-11).n_unique().alias("p"),
        pl.len().alias("n"),
    )
    # (how often they call varies by world: at least two calls from one phone)
    assert phones.filter(pl.col("n") >= 2).height >= 1
    assert (phones.filter(pl.col("n") >= 2)["p"] == 1).all()


def _addr_key(a: str) -> tuple[str, str, str] | None:
    """(number, building, room) of a dwelling address in any of its written forms."""
    a = unicodedata.normalize("NFKC", a).replace(" ", "")
    m = re.search(r"(\d+)号\D*?(\d+)(?:幢|栋|-)(\d+)", a)
    return (m.group(1), m.group(2), m.group(3)) if m else None


def test_typo_prone_addresses_attract_records_about_other_houses(
    truth: pl.DataFrame, sample_root: Path, frames: dict[str, pl.DataFrame]
):
    reg = _registry(frames)
    typo = set(truth.filter(pl.col("kind") == "typo_address")["house_id"].to_list())
    keys = {
        _addr_key(a): h for h, a in reg.select("house_id", "address").iter_rows() if h in typo and a
    }
    links = dict(
        pl.read_csv(sample_root / "truth" / "address_links.csv", infer_schema=False)
        .filter(pl.col("entity") == "hotline_tickets")
        .select("record_id", "house_id")
        .iter_rows()
    )
    hits = [
        (tid, keys[k])
        for tid, a in frames["hotline_tickets"].select("ticket_id", "address").unique().iter_rows()
        if a and (k := _addr_key(a)) in keys
    ]
    assert len(hits) >= 2
    elsewhere = [tid for tid, house in hits if links.get(tid) != house]
    assert len(elsewhere) >= 0.8 * len(hits)


# --- plausible rates -------------------------------------------------------------------------


def test_grid_events_mostly_close_and_hazards_mostly_get_fixed(frames: dict[str, pl.DataFrame]):
    end = dt.datetime.strptime(TEST_END, "%Y-%m") + dt.timedelta(days=31)
    ev = latest(frames["grid_events"], "event_id").with_columns(
        rep=pl.Series(
            [
                parse_ts(v)
                for v in latest(frames["grid_events"], "event_id")["reported_at"].to_list()
            ],
            dtype=pl.Datetime("us"),
        )
    )
    old = ev.filter(pl.col("rep") < end - dt.timedelta(days=30))
    closed = old["status"].str.strip_chars().is_in(["已办结", "已归档"]).mean()
    assert 0.9 <= closed <= 1.0
    hz = latest(frames["rental_hazards"], "hazard_id")
    status = Counter(s.strip() for s in hz["status"].to_list())
    assert status["已整改"] > 0.6 * hz.height


def test_hotline_satisfaction_differs_between_departments(frames: dict[str, pl.DataFrame]):
    t = latest(frames["hotline_tickets"], "ticket_id").filter(
        pl.col("status").str.strip_chars() == "已办结"
    )
    kind = pl.col("department").str.strip_chars().str.replace(r"^.*?(区|市|县)", "")
    by = t.group_by(kind.alias("dept")).agg(
        (pl.col("satisfaction").str.strip_chars() == "满意").mean().alias("sat"), pl.len()
    )
    by = by.filter(pl.col("len") >= 40)
    assert by["sat"].max() - by["sat"].min() > 0.05


# --- CLI -------------------------------------------------------------------------------------


def _args(**kw: object) -> argparse.Namespace:
    base = {"out": None, "scale": "test", "months": 1, "seed": 3, "end": TEST_END}
    return argparse.Namespace(**{**base, **kw})


def test_cli_rejects_bad_arguments_with_one_line_and_exit_2(tmp_path: Path, capsys):
    for bad in ({"scale": "huge"}, {"end": "2026-13"}, {"months": 0}, {"scale": "5"}):
        assert run_sample(_args(out=str(tmp_path), **bad)) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("pingan sample:") and "\n" not in err


def test_cli_refuses_a_landing_folder_holding_other_files(tmp_path: Path, capsys):
    (tmp_path / "landing" / "hotline").mkdir(parents=True)
    (tmp_path / "landing" / "hotline" / "real.csv").write_text("x", encoding="utf-8")
    assert run_sample(_args(out=str(tmp_path))) == 2
    assert "real.csv" in capsys.readouterr().err


def test_cli_defaults_to_the_data_dir_and_prints_a_summary(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("PINGAN_DATA_DIR", str(tmp_path))
    assert run_sample(_args()) == 0
    out = capsys.readouterr().out
    assert "hotline_tickets" in out and "planted:" in out
    assert (tmp_path / "truth" / "group_rental_truth.csv").exists()
    assert any((tmp_path / "landing" / "hotline").iterdir())


# --- the real ingest accepts the deliveries --------------------------------------------------


@pytest.mark.slow
def test_ingest_loads_every_file_and_rejects_only_the_planted_bad_rows(raw_warehouse, sample_root):
    import duckdb

    manifest = json.loads((sample_root / "truth" / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(raw_warehouse.warehouse), read_only=True)
    try:
        status = dict(con.sql("select status, count(*) from raw.load_ledger group by 1").fetchall())
        reasons = [
            r for (r,) in con.sql("select distinct reason from raw.rejected_rows").fetchall()
        ]
        loaded = con.execute("select count(*) from raw.hotline_tickets").fetchall()[0][0]
    finally:
        con.close()
    assert status.get("rejected", 0) == 0
    assert status["duplicate"] == len(manifest["redelivered"])
    assert status["loaded"] + status["duplicate"] == manifest["files"]
    assert reasons and all("missing" in r for r in reasons), reasons
    assert loaded >= 0.99 * manifest["rows"]["hotline_tickets"]
