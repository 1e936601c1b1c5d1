"""An independent 12345 hotline export for the ingest benchmark (not written by ``pingan sample``).

Made from the source-export contract (``shared/source-exports.md``, the hotline entity)
alone, the way another city's system would deliver it:

* every row a distinct received/updated timestamp and a distinct caller phone (no
  value repeats, so nothing is cheaper for being seen before);
* long free texts (a few hundred characters) written by call takers;
* a share of rows (``slow_share``, default 20%) whose values need the slow paths:
  timestamps in the contract's other forms (``2026/10/3 9:05``, ``2026年10月3日 09:05``,
  ``20261003090500``, full-width digits, date-only, an explicit offset), phones as
  ``+86 138 1234 5678`` / ``138-1234-5678`` / landlines ``0513-85123456`` / full-width,
  ID numbers and phones typed into the texts, addresses with province prefixes and
  ``3-201`` room numbers, enumerations with stray spaces or full-width letters, missing
  markers (``-``, ``无``), flags as ``Y``/``1``; and a few values that do not parse at all
  (warnings) and rows without a key (rejections);
* headers partly under their aliases (an older system version) and an unknown extra column.

Vectorised with numpy and polars so a million rows take seconds.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import polars as pl

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))
REGIONS = np.array(["320602", "320611", "320612", "320623", "320681", "320682", "320685", "110105"])
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰")
DISTRICTS = ["崇川区", "通州区", "海门区", "如皋市", "启东市", "海安市", "如东县"]
STREETS = ["和平桥街道", "城东街道", "观音山街道", "狼山镇街道", "金沙街道", "长安镇", "白蒲镇"]
ROADS = ["青年中路", "工农南路", "崇川路", "南大街", "跃龙路", "园林路", "长江北路", "姚港路"]
DEPARTMENTS = ["市住建局", "区城管局", "市场监管局", "区公安分局", "街道办事处", "区生态环境局"]
CHANNELS = ["电话", "网站", "微信", "APP", "市长信箱", "部门转办"]
REQUEST_TYPES = ["投诉", "求助", "咨询", "建议", "举报", "表扬"]
STATUSES = ["待派单", "办理中", "已办结", "已退回", "已撤销"]
SATISFACTION = ["满意", "基本满意", "不满意", "未评价"]
CATEGORIES = [
    "城乡建设>房屋管理>群租房",
    "公共安全>社会治安>噪音扰民",
    "交通运输>道路>道路破损",
    "环境保护>大气污染>油烟扰民",
    "市场监管>食品安全>无证经营",
    "劳动保障>工资>拖欠工资",
]
SENTENCES = [
    "来电人反映其所住小区楼下商铺每天晚上十点以后仍在营业，油烟和噪音严重影响周边居民休息",
    "该问题已持续两个多月，多次向物业和社区反映均未得到解决，来电人情绪较为激动",
    "希望相关部门尽快上门核实情况并依法处理，同时请将处理结果及时电话回复来电人",
    "据来电人称，附近一处出租房屋内居住人员较多，进出频繁，楼道内堆放大量杂物存在消防隐患",
    "来电人咨询居住证办理的具体流程、所需材料以及办理窗口的地址和工作时间",
    "小区门口道路破损严重，雨天大面积积水，老人和孩子出行很不方便，存在安全隐患",
    "来电人表示其在某公司工作半年，单位至今拖欠三个月工资共计一万二千元，要求协调解决",
    "路口信号灯损坏已有一周，早晚高峰车辆拥堵，行人过马路十分危险，请尽快维修",
]
EXTRA = ["已电话联系", "待核实", "", "转二次回访"]
FULL = str.maketrans("0123456789:-/ ", "０１２３４５６７８９：－／\u3000")


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid 18-character resident ID numbers (GB 11643 check character)."""
    region = rng.choice(REGIONS, n)
    birth = np.datetime64("1950-01-01") + rng.integers(0, 55 * 365, n).astype("timedelta64[D]")
    body = np.char.add(
        np.char.add(region, np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "")),
        np.char.zfill(rng.integers(0, 1000, n).astype(str), 3),
    )
    digits = body.view("<U1").reshape(n, 17).astype(np.int64)
    return np.char.add(body, ID_CHECK[(digits @ ID_WEIGHTS) % 11])


def _mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct mobile numbers."""
    offsets = rng.choice(6_000_000_000, n, replace=False)
    return (13_000_000_000 + offsets).astype(np.int64).astype(str)


def _stamp_forms(stamps: np.ndarray, slow: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Timestamps as ``2026-10-03 09:05:00``; on ``slow`` rows in the contract's other forms."""
    iso = pl.Series(np.datetime_as_string(stamps, unit="s")).str.replace("T", " ")
    frame = pl.DataFrame(
        {"iso": iso, "slow": slow, "form": rng.integers(0, 7, len(stamps))}
    ).with_columns(
        ts=pl.col("iso").str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S"),
    )
    ts = pl.col("ts")
    form = pl.col("form")
    variants = (
        pl.when(form == 0)
        .then(ts.dt.strftime("%Y/%-m/%-d %-H:%M"))
        .when(form == 1)
        .then(ts.dt.strftime("%Y年%-m月%-d日 %H:%M"))
        .when(form == 2)
        .then(ts.dt.strftime("%Y%m%d%H%M%S"))
        .when(form == 3)
        .then(
            pl.col("iso").str.replace_many(list("0123456789:-"), list("０１２３４５６７８９：－"))
        )
        .when(form == 4)
        .then(pl.concat_str([pl.lit(" "), pl.col("iso"), pl.lit("\u3000")]))
        .when(form == 5)
        .then((ts - pl.duration(hours=8)).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        .otherwise(ts.dt.strftime("%Y/%m/%d %H:%M:%S"))
    )
    return frame.select(pl.when("slow").then(variants).otherwise("iso").alias("v"))["v"]


def _phone_forms(mobiles: np.ndarray, slow: np.ndarray, rng: np.random.Generator) -> pl.Series:
    m = pl.col("m")
    form = pl.col("form")
    variants = (
        pl.when(form == 0)
        .then(pl.format("+86 {} {} {}", m.str.slice(0, 3), m.str.slice(3, 4), m.str.slice(7, 4)))
        .when(form == 1)
        .then(pl.format("{}-{}-{}", m.str.slice(0, 3), m.str.slice(3, 4), m.str.slice(7, 4)))
        .when(form == 2)  # a landline with its area code (distinct: from the mobile's digits)
        .then(pl.format("0513-8{}", m.str.slice(4, 7)))
        .when(form == 3)
        .then(m.str.replace_many(list("0123456789"), list("０１２３４５６７８９")))
        .when(form == 4)  # not a phone at all: a warning
        .then(m.str.slice(0, 7))
        .otherwise(pl.concat_str([pl.lit("0086"), m]))
    )
    return pl.DataFrame({"m": mobiles, "slow": slow, "form": rng.choice(6, len(mobiles))}).select(
        pl.when("slow").then(variants).otherwise(m).alias("v")
    )["v"]


def _content(n: int, slow: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Long texts; on slow rows with an ID number and a phone typed inside, in loose forms."""
    sentences = np.array(SENTENCES)
    parts = [rng.choice(sentences, n) for _ in range(4)]
    text = np.char.add(np.char.add(parts[0], "。"), np.char.add(parts[1], "。"))
    text = np.char.add(text, np.char.add(np.char.add(parts[2], "。"), parts[3]))
    ids = _ids(rng, n)
    phones = _mobiles(rng, n)
    frame = pl.DataFrame(
        {"t": text, "id": ids, "p": phones, "slow": slow, "form": rng.integers(0, 3, n)}
    )
    p, id_ = pl.col("p"), pl.col("id")
    spaced = pl.format("{} {} {}", p.str.slice(0, 3), p.str.slice(3, 4), p.str.slice(7, 4))
    numbers = (
        pl.when(pl.col("form") == 0)
        .then(pl.format("，来电人身份证号{}，联系电话{}", id_, p))
        .when(pl.col("form") == 1)
        .then(pl.format("（身份证：{}，手机 {}）", id_.str.to_lowercase(), spaced))
        .otherwise(
            pl.format("，回访号码{}，另留号码{}-{}", spaced, p.str.slice(0, 3), p.str.slice(3))
        )
    )
    return frame.select(
        pl.when("slow")
        .then(pl.concat_str([pl.col("t"), numbers, pl.lit("。")]))
        .otherwise(pl.concat_str([pl.col("t"), pl.lit("。")]))
        .alias("v")
    )["v"]


def make_export(n: int, seed: int = 15, slow_share: float = 0.2) -> pl.DataFrame:
    """``n`` hotline tickets as another city's system exports them (all values text)."""
    rng = np.random.default_rng(seed)
    slow = rng.random(n) < slow_share
    # Distinct seconds over a year: every row its own received time.
    start = np.datetime64("2026-01-01T00:00:00")
    received = start + np.sort(rng.choice(365 * 86400, n, replace=False)).astype("timedelta64[s]")
    received = rng.permutation(received)
    dispatched = received + rng.integers(300, 7200, n).astype("timedelta64[s]")
    due = received + np.timedelta64(5 * 86400, "s")
    closed = received + rng.integers(3600, 12 * 86400, n).astype("timedelta64[s]")
    updated = closed + np.arange(n).astype("timedelta64[ms]")  # distinct even where closed meets
    updated = updated.astype("datetime64[s]") + rng.integers(0, 59, n).astype("timedelta64[s]")

    district = rng.choice(DISTRICTS, n)
    house = rng.integers(1, 300, n).astype(str)
    building = rng.integers(1, 30, n).astype(str)
    room = rng.integers(101, 2999, n).astype(str)
    address = np.char.add(np.char.add(district, rng.choice(ROADS, n)), np.char.add(house, "号"))
    address_slow = np.char.add(np.char.add("江苏省南通市", address), np.char.add(building, "-"))
    address_slow = np.char.add(address_slow, room)
    address = np.where(
        slow,
        np.char.translate(address_slow, FULL),
        np.char.add(address, np.char.add(np.char.add(building, "幢"), np.char.add(room, "室"))),
    )

    channel = rng.choice(CHANNELS, n)
    channel = np.where(slow & (channel == "APP"), "ＡＰＰ", channel)
    channel = np.where(slow & (channel == "微信"), "微 信", channel)
    status = rng.choice(STATUSES, n, p=[0.05, 0.2, 0.65, 0.05, 0.05])
    closed_text = _stamp_forms(closed, slow, rng)
    closed_text = pl.select(
        pl.when(pl.Series(status == "已办结"))
        .then(pl.lit(closed_text))
        .when(pl.Series(slow))
        .then(pl.lit(pl.Series(rng.choice(["-", "无", "/", ""], n))))
        .otherwise(pl.lit(""))
    ).to_series()
    ticket = np.char.add("NT", (20260100000000 + rng.permutation(n)).astype(np.int64).astype(str))
    # Rows without a key (rejected) and values no parser reads (warnings): a few per mille.
    broken = rng.random(n)
    ticket = np.where(broken < 0.001, "-", ticket)
    received_text = _stamp_forms(received, slow, rng)
    received_text = pl.select(
        pl.when(pl.Series(broken > 0.998)).then(pl.lit("2026-13-45 25:61")).otherwise(received_text)
    ).to_series()

    frame = pl.DataFrame(
        {
            "工单号": ticket,  # an alias of 工单编号
            "受理时间": received_text,  # an alias of 来电时间
            "受理渠道": channel,
            "诉求人": np.char.add(rng.choice(SURNAMES, n), rng.choice(GIVEN, n)),
            "联系电话": _phone_forms(_mobiles(rng, n), slow, rng),
            "诉求类型": np.where(
                slow, np.char.add(rng.choice(REQUEST_TYPES, n), " "), rng.choice(REQUEST_TYPES, n)
            ),
            "问题分类": rng.choice(CATEGORIES, n),
            "诉求内容": _content(n, slow, rng),
            "事发地址": address,
            "所属区县": np.where(slow & (rng.random(n) < 0.3), "", district),
            "所属街道": rng.choice(STREETS, n),
            "承办单位": rng.choice(DEPARTMENTS, n),
            "派单时间": _stamp_forms(dispatched, slow, rng),
            "办理时限": _stamp_forms(due, slow, rng),
            "办结时间": closed_text,
            "工单状态": status,
            "满意度": rng.choice(SATISFACTION, n),
            "是否重复件": np.where(
                slow, rng.choice(["Y", "N", "1", "0"], n), rng.choice(["是", "否"], n, p=[0.1, 0.9])
            ),
            "最后更新时间": _stamp_forms(updated, slow, rng),
            "回访备注": rng.choice(EXTRA, n),  # an unknown column from a system upgrade
        }
    )
    return frame


def write_export(n: int, folder: Path, seed: int = 15) -> tuple[Path, Path]:
    """The export as UTF-8 (for DuckDB's floor) and as GB18030 (what is delivered)."""
    folder.mkdir(parents=True, exist_ok=True)
    utf8 = folder / "hotline_other_city_utf8.csv"
    gb = folder / "12345工单导出_外市_20261201.csv"
    done = folder / ".complete"
    if not done.exists():
        make_export(n, seed).write_csv(utf8)
        encoder = codecs.getincrementalencoder("gb18030")()
        with utf8.open(encoding="utf-8") as src, gb.open("wb") as out:
            while chunk := src.read(1 << 22):
                out.write(encoder.encode(chunk))
            out.write(encoder.encode("", final=True))
        done.touch()
    return utf8, gb
