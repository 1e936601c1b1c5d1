"""A synthetic published snapshot with the layout the dashboards read.

Used by the dashboard tests (a few rows, exact values, precise row-level
assertions) and by ``benchmarks/bench_dashboards.py --synthetic`` (city-sized
fact tables) when no real city-scale snapshot has been published. It is NOT
part of the pipeline: the real snapshot comes from
``orchestration.publish.publish_snapshot``. Keeping it next to
:mod:`dashboards.data` makes the columns the dashboards depend on explicit.

Everything is generated in DuckDB SQL from ``range()`` with hash-based
pseudo-random values, so the same arguments give the same snapshot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

# Nantong's districts and a few streets each (the sample generator's city).
DISTRICTS: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "崇川区": (120.86, 32.01, ("和平桥街道", "城东街道", "观音山街道", "狼山镇街道")),
    "通州区": (121.07, 32.08, ("金沙街道", "兴仁镇", "平潮镇", "石港镇")),
    "海门区": (121.18, 31.89, ("海门街道", "三厂街道", "临江镇")),
    "如皋市": (120.57, 32.37, ("如城街道", "东陈镇", "长江镇")),
    "启东市": (121.66, 31.81, ("汇龙镇", "南阳镇", "吕四港镇")),
    "海安市": (120.47, 32.53, ("海安街道", "城东镇", "曲塘镇")),
    "如东县": (121.19, 32.33, ("掘港街道", "栟茶镇", "洋口镇")),
    "南通经济技术开发区": (120.98, 31.98, ("竹行街道", "小海街道", "新开街道")),
}

# (indicator_code, indicator_name, unit, direction, weight)
INDICATORS = (
    ("criminal_cases", "刑事案件发案率", "起/万人", "negative", 0.3),
    ("security_incidents", "治安警情率", "起/万人", "negative", 0.25),
    ("disputes", "矛盾纠纷事件率", "件/万人", "negative", 0.2),
    ("hotline_on_time", "12345按期办结率", "%", "positive", 0.1),
    ("safety_feeling", "公众安全感", "%", "positive", 0.15),
)


@dataclass(frozen=True)
class Size:
    months: int = 3
    tickets: int = 400
    events: int = 300
    incidents: int = 150
    dwellings: int = 120
    leads: int = 30


SMALL = Size()
CITY = Size(months=12, tickets=1_500_000, events=2_000_000, incidents=400_000,
            dwellings=300_000, leads=3_000)  # fmt: skip


def _months(last: str, n: int) -> list[str]:
    year, mon = (int(x) for x in last.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{mon:02d}")
        mon -= 1
        if mon == 0:
            year, mon = year - 1, 12
    return out[::-1]


def street_centres() -> list[tuple[str, str, float, float]]:
    """(district, street, lon, lat) of the hand-made regions (as placed in the snapshot)."""
    return [
        (d, s, lon + 0.03 * i, lat + 0.02 * i)
        for d, (lon, lat, streets) in DISTRICTS.items()
        for i, s in enumerate(streets)
    ]


def write_boundaries(data_dir: Path, leave_out: tuple[str, ...] = ()) -> Path:
    """``data_dir/boundaries.geojson`` for the hand-made regions, drawn by the simulator's
    boundary builder; the region keys in ``leave_out`` get no polygon."""
    import polars as pl

    from simulator import boundaries

    centres = pl.DataFrame(
        street_centres(), schema=["district", "street", "lon", "lat"], orient="row"
    )
    collection = boundaries.build(centres)
    collection["features"] = [
        f for f in collection["features"] if f["properties"]["region_key"] not in leave_out
    ]
    data_dir.mkdir(parents=True, exist_ok=True)
    return boundaries.write(collection, data_dir)


def build_snapshot(
    path: Path,
    size: Size = SMALL,
    last_month: str = "2026-10",
    version: str = "20261101T060000-1",
) -> Path:
    """Write a snapshot file at ``path`` (replaced atomically, like a publish)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    months = _months(last_month, size.months)
    regions = [
        (d, s, lon + 0.03 * i, lat + 0.02 * i, 50_000 + 7_000 * i)
        for d, (lon, lat, streets) in DISTRICTS.items()
        for i, s in enumerate(streets)
    ]
    con = duckdb.connect(str(tmp))
    try:
        con.execute("set enable_progress_bar = false")
        _build(con, size, months, regions, version)
    finally:
        con.close()
    os.replace(tmp, path)
    return path


def _build(con: duckdb.DuckDBPyConnection, size: Size, months: list[str], regions,
           version: str) -> None:  # fmt: skip
    ex = con.execute
    for schema in ("marts", "quality", "raw", "meta"):
        ex(f"create schema {schema}")
    ex("create table meta.publication (version varchar, published_at timestamp, run_id varchar)")
    ex(
        "insert into meta.publication values (?, ?, ?)",
        [version, datetime(2026, 11, 1, 6, 0), "run-synthetic"],
    )
    ex(
        "create temp table regions (rid integer, district varchar, street varchar, "
        "lon double, lat double, population bigint)"
    )
    con.executemany(
        "insert into regions values (?, ?, ?, ?, ?, ?)",
        [(i, *r) for i, r in enumerate(regions)],
    )
    ex(
        """
        create table marts.dim_region as
        select '全市' as region_key, 'city' as region_level, '全市' as region_name,
               null::varchar as parent_key, null::varchar as district, null::varchar as street,
               sum(population)::bigint as population
        from regions
        union all
        select district, 'district', district, '全市', district, null, sum(population)::bigint
        from regions group by district
        union all
        select district || '/' || street, 'street', street, district, district, street, population
        from regions
        """
    )
    ex(
        """
        create table marts.dim_month as
        select cast(m || '-01' as date) as month_start, m as month,
               cast(substr(m, 1, 4) as integer) || '年' || cast(substr(m, 6, 2) as integer) || '月'
                   as month_label,
               m = max(m) over () as is_latest
        from unnest(?) t(m)
        """,
        [months],
    )
    ex("create temp table months as select row_number() over (order by month) - 1 as mid, * "
       "from marts.dim_month")  # fmt: skip
    n_regions, n_months = len(regions), len(months)

    # Dwellings (the linkage target of every fact about an address).
    ex(
        f"""
        create table marts.dim_dwelling as
        select 'H' || lpad(i::varchar, 7, '0') as house_id,
               r.street || '幸福路' || (i % 200 + 1) || '号' || (i % 12 + 1) || '幢'
                   || (i % 6 + 1) || '0' || (i % 4 + 1) || '室' as address,
               r.street || '幸福路' || (i % 200 + 1) || '号' || (i % 12 + 1) || '幢'
                   || (i % 6 + 1) || '0' || (i % 4 + 1) || '室' as address_norm,
               r.district, r.street, r.district || '/' || r.street as region_key,
               cast(30 + i % 90 as double) as floor_area_m2,
               cast(1 + i % 4 as bigint) as rooms,
               (['整租', '合租', '分租'])[1 + i % 3] as rent_mode,
               cast(1 + i % 3 as bigint) as registered_tenants,
               '在租' as house_status,
               r.street || (['桃园', '和平', '幸福'])[1 + i % 3] || '社区' as community,
               timestamp '2024-03-01 09:00:00' + to_days(cast(i % 500 as integer))
                   as registered_at,
               r.lon + ((hash(i, 'x') % 1000) / 1000.0 - 0.5) * 0.04 as lon,
               r.lat + ((hash(i, 'y') % 1000) / 1000.0 - 0.5) * 0.04 as lat,
               md5('landlord' || (i % 97)) as landlord_pseudonym
        from range({size.dwellings}) t(i)
        join regions r on r.rid = i % {n_regions}
        """
    )

    def fact_base(n: int, salt: str) -> str:
        # Row i: region, month, timestamp, linked dwelling (every 4th row none), u in [0,1).
        return f"""
            select i, r.district, r.street, r.district || '/' || r.street as region_key,
                   m.month_start as month_start,
                   m.month_start + cast(hash(i, '{salt}d') % 28 as integer)
                       + to_hours(cast(hash(i, '{salt}h') % 24 as integer)) as ts,
                   case when i % 4 <> 0 then 'H' || lpad(
                       ((hash(i, '{salt}w') % ({size.dwellings} // {n_regions}))
                        * {n_regions} + r.rid)::varchar, 7, '0') end as house_id,
                   (hash(i, '{salt}u') % 10000) / 10000.0 as u
            from range({n}) t(i)
            join regions r on r.rid = i % {n_regions}
            join months m on m.mid = (i // {n_regions}) % {n_months}
        """

    departments = "['市住建局', '市公安局', '市城管局', '区政府', '市市场监管局']"
    link = """case when house_id is null then 'none' else 'exact' end as link_method,
              case when house_id is null then null else 1.0 end as link_score"""
    ex(
        f"""
        create table marts.fct_hotline_tickets as
        with b as ({fact_base(size.tickets, "t")})
        select 'NT' || lpad(i::varchar, 11, '0') as ticket_id,
               ts as received_at, month_start as received_month,
               (['电话', '微信', 'APP'])[1 + i % 3] as channel,
               (['投诉', '求助', '咨询'])[1 + i % 3] as request_type,
               (['城乡建设>房屋管理>群租房', '公共安全>社会治安>噪音扰民',
                 '城乡建设>市容环境>占道经营', '劳动保障>工资拖欠>欠薪'])[1 + i % 4]
                   as category_path,
               (['城乡建设', '公共安全', '城乡建设', '劳动保障'])[1 + i % 4] as category_l1,
               i % 4 = 1 as is_security_complaint,
               i % 4 = 0 as is_group_rental_complaint,
               ({departments})[1 + i % 5] as department,
               case when u < 0.85 then '已办结' else '办理中' end as status,
               u < 0.85 as is_closed, false as is_cancelled,
               ts + interval 5 day as due_at, month_start as due_month,
               case when u < 0.85 then ts + to_hours(cast(u * 150 as integer)) end as closed_at,
               u < 0.75 as is_closed_on_time,
               (['满意', '基本满意', '不满意', '未评价'])[1 + i % 4] as satisfaction,
               i % 4 <> 3 as is_rated, i % 4 < 2 as is_satisfied, false as is_repeat,
               street || '幸福路' || (i % 200 + 1) || '号' as address,
               street || '幸福路' || (i % 200 + 1) || '号' as address_norm,
               district, street, region_key, house_id, {link},
               md5('caller' || (i % 5000)) as caller_pseudonym,
               ts + interval 1 day as updated_at
        from b
        """
    )
    ex(
        f"""
        create table marts.fct_grid_events as
        with b as ({fact_base(size.events, "e")})
        select 'E' || lpad(i::varchar, 10, '0') as event_id,
               'G' || lpad((i % 500)::varchar, 5, '0') as grid_code,
               ts as reported_at, month_start as reported_month,
               (['网格员巡查', '群众反映'])[1 + i % 2] as origin,
               (['矛盾纠纷', '安全隐患', '治安防控', '出租房屋', '环境卫生'])[1 + i % 5]
                   as category,
               '其他' as subcategory, '一般' as urgency, '社区' as handling_level,
               ({departments})[1 + i % 5] as department,
               case when u < 0.9 then '已办结' else '处置中' end as status,
               u < 0.9 as is_closed, false as is_returned,
               ts + interval 3 day as due_at, month_start as due_month,
               case when u < 0.9 then ts + to_hours(cast(u * 80 as integer)) end as closed_at,
               u < 0.82 as is_closed_on_time,
               street || '幸福路' || (i % 200 + 1) || '号' as address,
               street || '幸福路' || (i % 200 + 1) || '号' as address_norm,
               district, street, region_key, house_id, {link},
               ts + interval 1 day as updated_at
        from b
        """
    )
    ex(
        f"""
        create table marts.fct_police_incidents as
        with b as ({fact_base(size.incidents, "p")})
        select 'J' || lpad(i::varchar, 10, '0') as incident_id,
               ts as reported_at, month_start as reported_month,
               '110电话' as report_channel,
               (['刑事', '治安', '纠纷', '求助', '其他'])[1 + i % 5] as category,
               '噪音扰民' as subcategory, street || '派出所' as station,
               '已调解' as outcome, i % 7 = 0 as case_opened,
               street || '幸福路' || (i % 200 + 1) || '号' as address,
               street || '幸福路' || (i % 200 + 1) || '号' as address_norm,
               district, street, region_key, house_id, {link}
        from b
        """
    )
    ex(
        f"""
        create table marts.fct_police_cases as
        with b as ({fact_base(max(size.incidents // 5, 10), "c")})
        select 'A' || lpad(i::varchar, 10, '0') as case_id,
               (['刑事案件', '治安案件'])[1 + i % 2] as case_class,
               (['盗窃', '诈骗', '寻衅滋事'])[1 + i % 3] as cause,
               ts as occurred_at, ts as filed_at, month_start as case_month,
               (['已立案', '已破案', '已结案'])[1 + i % 3] as status,
               i % 3 > 0 as is_solved, street || '派出所' as station,
               street || '幸福路' || (i % 200 + 1) || '号' as address,
               district, street, region_key, house_id, {link}
        from b
        """
    )
    ex(
        f"""
        create table marts.fct_floating_population as
        with b as ({fact_base(max(size.dwellings // 2, 40), "f")})
        select 'R' || lpad(i::varchar, 10, '0') as registration_id,
               md5('person' || i) as person_pseudonym,
               (['男', '女'])[1 + i % 2] as sex, (['务工', '经商', '就学'])[1 + i % 3] as reason,
               '安徽省' as hukou_place,
               ts as registered_at, month_start as registered_month,
               null::timestamp as deregistered_at, true as is_active,
               street || '幸福路' || (i % 200 + 1) || '号' as address,
               district, street, region_key, house_id, {link}
        from b
        """
    )
    ex(
        f"""
        create table marts.fct_rental_hazards as
        with b as ({fact_base(max(size.dwellings // 3, 30), "h")})
        select 'Z' || lpad(i::varchar, 8, '0') as hazard_id, house_id,
               (['电线私拉乱接', '电动车违规充电', '违规隔断'])[1 + i % 3] as hazard_type,
               '网格巡查' as found_by, ts as found_at, month_start as found_month,
               ts + interval 15 day as due_at, month_start as due_month,
               (['未整改', '已整改', '逾期未整改'])[1 + i % 3] as status,
               i % 3 = 1 as is_fixed, i % 3 <> 1 as is_open,
               case when i % 3 = 1 then ts + interval 10 day end as fixed_at,
               i % 3 = 1 as is_fixed_on_time,
               district, street, region_key
        from b
        """
    )

    # Safety index: district and street rows with their components (contributions add up).
    ex("create temp table indicators (code varchar, name varchar, unit varchar, "
       "direction varchar, weight double)")  # fmt: skip
    con.executemany("insert into indicators values (?, ?, ?, ?, ?)", INDICATORS)
    ex(
        """
        create table marts.mart_safety_index_components as
        with units as (
            select 'street' as region_level, district || '/' || street as region_key,
                   street as region_name, district, street from regions
            union all
            select distinct 'district', district, district, district, null from regions
        ),
        base as (
            select u.*, m.month_start, m.month, i.*,
                   round(40 + (hash(u.region_key, m.month, i.code) % 6000) / 100.0, 1)
                       as normalised_value
            from units u cross join months m cross join indicators i
        )
        select region_key || '|' || month || '|' || code as component_id,
               region_key || '|' || month as index_id,
               month_start, month, region_level, region_key, region_name, district, street,
               code as indicator_code, name as indicator_name, unit, direction,
               round(normalised_value / 10, 2) as raw_value, 'observed' as value_status,
               1.0 as attribution_coverage, normalised_value, weight, weight as effective_weight,
               weight * normalised_value as contribution
        from base
        """
    )
    ex(
        """
        create table marts.mart_safety_index as
        with idx as (
            select index_id, month_start, month, region_level, region_key, region_name,
                   district, street, round(sum(contribution), 1) as safety_index,
                   count(*) as indicators_observed
            from marts.mart_safety_index_components
            group by all
        ),
        ranked as (
            select idx.*,
                   rank() over (partition by region_level, month order by safety_index desc)
                       as rank,
                   count(*) over (partition by region_level, month) as units_ranked,
                   safety_index - lag(safety_index) over (partition by region_key
                       order by month) as index_change_mom
            from idx
        )
        select r.*, g.population,
               case when safety_index >= 80 then '优' when safety_index >= 60 then '良'
                    when safety_index >= 40 then '中' else '差' end as grade,
               lag(rank) over (partition by r.region_key order by month) - rank
                   as rank_change_mom,
               null::double as index_change_yoy,
               5 as indicators_total, 1.0 as weight_coverage
        from ranked r join marts.dim_region g using (region_key)
        """
    )
    # Rank uncertainty: an interval around each rank; sensitivity of the ranks by choice.
    ex(
        """
        create table marts.mart_safety_index_uncertainty as
        select index_id, month_start, month, region_level, region_key, region_name,
               district, street, safety_index, rank, units_ranked,
               greatest(rank - 1, 1) as rank_p05, rank as rank_p50,
               least(rank + 2, units_ranked) as rank_p95, 1000 as draws, 1000 as draws_ranked,
               false as rank_outside_draws, rank_change_mom, rank + rank_change_mom as previous_rank,
               rank + rank_change_mom between greatest(rank - 1, 1)
                   and least(rank + 2, units_ranked) as rank_change_within_interval
        from marts.mart_safety_index
        """
    )
    ex(
        """
        create table marts.mart_safety_index_sensitivity as
        with c(choice, choice_name, option, option_name, shift, first_order_index) as (
            values ('normalisation', '标准化方法', 'minmax', '极差标准化', 0.8, 0.35),
                   ('normalisation', '标准化方法', 'rank', '排序百分位', 1.6, 0.35),
                   ('aggregation', '合成方法', 'arithmetic', '加权算术平均', 0.9, 0.2),
                   ('aggregation', '合成方法', 'geometric', '加权几何平均', 1.3, 0.2),
                   ('weights', '指标权重', 'Q1', '权重偏离第1档', 1.0, 0.05),
                   ('survey_carry_forward', '公众安全感沿用上期', 'carry_forward',
                    '沿用上期调查值', 1.0, 0.1)
        )
        select month || '|' || l.region_level || '|' || choice || '|' || option
                   as sensitivity_id,
               m.month_start, m.month, l.region_level, choice, choice_name, option,
               option_name, 500 as draws, shift as mean_abs_rank_shift, first_order_index,
               dense_rank() over (partition by m.month, l.region_level
                                  order by first_order_index desc) as choice_rank
        from c cross join months m
        cross join (values ('district'), ('street')) l(region_level)
        """
    )
    ex(
        """
        create table marts.mart_alerts as
        with c as (
            select *, lag(raw_value) over (partition by region_key, indicator_code
                                           order by month) as previous_value
            from marts.mart_safety_index_components
        )
        select component_id as alert_id, month_start, month, region_level, region_key,
               region_name, district, street, indicator_code, indicator_name, unit,
               raw_value as value, previous_value,
               raw_value - previous_value as change_abs,
               (raw_value - previous_value) / previous_value as change_pct,
               previous_value as expected_value, previous_value - 1.5 as expected_low,
               previous_value + 1.5 as expected_high, previous_value as baseline_mean,
               raw_value * 0.9 as last_year_value, previous_value as level_average,
               0.001 as p_value, 0.01 as q_value, '环比波动' as rule,
               (raw_value > previous_value) = (direction = 'negative') as is_worsening,
               case when abs(raw_value - previous_value) / previous_value > 0.6 then '高'
                    when (raw_value > previous_value) = (direction = 'negative') then '中'
                    else '低' end as severity,
               region_name || indicator_name || '环比'
                   || case when raw_value > previous_value then '上升' else '下降' end
                   || round(abs(raw_value - previous_value) / previous_value * 100, 1) || '%'
                   || '（' || previous_value || unit || '→' || raw_value || unit || '）'
                   as message,
               '按近12个月水平推算，预期' || previous_value || unit || '；实际' || raw_value
                   || unit as evidence
        from c
        where previous_value > 0 and abs(raw_value - previous_value) / previous_value > 0.3
        """
    )

    # Completion rates at every region level x stream x breakdown.
    ex(
        """
        create table marts.mart_completion_rates as
        with items as (
            select 'hotline' as stream, due_month as month_start, district, street,
                   department, category_l1 as category, is_closed,
                   is_closed_on_time, is_rated, is_satisfied, is_repeat
            from marts.fct_hotline_tickets
            union all
            select 'grid', due_month, district, street, department, category, is_closed,
                   is_closed_on_time, false, false, false
            from marts.fct_grid_events
        ),
        levels as (
            select *, 'city' as region_level, '全市' as region_key,
                   null::varchar as d, null::varchar as s from items
            union all
            select *, 'district', district, district, null from items
            union all
            select *, 'street', district || '/' || street, district, street from items
        ),
        breakdowns as (
            select *, 'all' as breakdown, '全部' as breakdown_value from levels
            union all select *, 'department', department from levels
            union all select *, 'category', category from levels
        ),
        counted as (
            select month_start, strftime(month_start, '%Y-%m') as month, region_level,
                   region_key, coalesce(s, d, '全市') as region_name, d as district,
                   s as street, stream, breakdown, breakdown_value,
                   count(*) as items_due,
                   count(*) filter (is_closed) as items_closed,
                   count(*) filter (is_closed_on_time) as items_closed_on_time,
                   count(*) filter (is_rated) as items_rated,
                   count(*) filter (is_satisfied) as items_satisfied,
                   count(*) filter (is_repeat) as items_repeat
            from breakdowns
            group by all
        )
        select *, items_closed / items_due as completion_rate,
               items_closed_on_time / items_due as on_time_rate,
               case when items_rated > 0 then items_satisfied / items_rated end
                   as satisfaction_rate,
               case when stream = 'hotline' then items_repeat / items_due end as repeat_rate,
               48.0 as median_hours_to_close
        from counted
        """
    )
    ex(
        f"""
        create table marts.mart_group_rental_scores as
        with d as (
            select *, row_number() over (order by house_id) - 1 as i from marts.dim_dwelling
        ),
        scored as (
            select d.*,
                   round(case when i < {size.leads} then 95 - i * (55.0 / {size.leads})
                              else (hash(house_id) % 3500) / 100.0 end, 1) as score
            from d
        )
        select 'QZ' || substr(md5(house_id), 1, 10) as lead_id, house_id, address, district,
               street, region_key, lon, lat, date '2026-10-31' as as_of_date,
               floor_area_m2, rooms, registered_tenants,
               cast(2 + i % 12 as bigint) as active_floating_registrations,
               cast(2 + i % 12 as bigint) as occupants_estimate,
               (2 + i % 12) / rooms as tenants_per_room,
               round(floor_area_m2 / (2 + i % 12), 1) as area_per_person_m2,
               cast(2 + i % 12 as bigint) as floating_registrations_90d,
               cast(i % 3 as bigint) as complaints_180d,
               cast(i % 2 as bigint) as group_rental_complaints_180d,
               cast(i % 3 as bigint) as police_incidents_180d,
               cast(i % 2 as bigint) as open_hazards,
               case when i < {size.leads} then '人均面积过小、投诉群租' else '' end as rule_flags,
               0.5 as anomaly_score, score,
               round(score * 0.8, 1) as prior_score,
               round(score / 100.0 * 0.9, 4) as probability,
               ln((score + 0.5) / (100.5 - score)) as score_logit,
               0.5 as logit_se,
               case when i < {size.leads} * 0.9 and i % 7 <> 3 and i % 11 <> 5 then '重点线索'
                    when i < {size.leads} and i % 7 <> 3 and i % 11 <> 5 then '探索性线索'
                    end as dispatch_type,
               i >= {size.leads} * 0.9 and i < {size.leads} and i % 7 <> 3 and i % 11 <> 5
                   as is_exploration,
               'synthetic0001' as model_version, 'learned' as model_kind,
               case when i % 7 = 3 then null
                    else rank() over (partition by i % 7 = 3 order by score desc) end as rank,
               case when i < {size.leads} then '近90天登记流动人口' || (2 + i % 12)
                    || '人；人均建筑面积' || round(floor_area_m2 / (2 + i % 12), 1)
                    || '㎡，低于标准'
                    else '' end as reasons,
               case when i % 7 = 3 then '暂缓' when i % 11 = 5 then '已确认群租' else '待核查' end
                   as status,
               null::timestamp as last_check_at, null::varchar as last_verdict
        from scored
        """
    )
    ex(
        f"""
        create table marts.fct_rental_checks as
        with b as ({fact_base(max(size.leads // 2, 10), "k")})
        select 'K' || lpad(i::varchar, 8, '0') as check_id,
               (select lead_id from marts.mart_group_rental_scores s
                 where s.house_id = b.house_id) as lead_id,
               house_id, ts as checked_at, month_start as checked_month,
               street || '派出所' as unit,
               (['确认群租', '确认出租', '非出租'])[1 + i % 3] as verdict,
               i % 3 = 0 as is_confirmed_group_rental, i % 3 > 0 as is_negative,
               cast(3 + i % 9 as bigint) as occupants_found,
               cast(i % 3 as bigint) as hazards_found,
               street || '幸福路' || (i % 200 + 1) || '号' as address,
               street || '幸福路' || (i % 200 + 1) || '号' as address_norm,
               district, street, region_key, 'house_id' as link_method
        from b
        """
    )
    ex(
        """
        create table marts.mart_group_rental_evaluation as
        select 'field_checks||k=' || k || '|all' as evaluation_id, 'field_checks' as source,
               null::date as month_start, null::varchar as month, k, 'k=' || k as k_label,
               'all' as segment, k as items_evaluated, k // 2 as hits, 40 as positives_total,
               (k // 2) / k as precision_at_k, (k // 2) / 40 as recall_at_k,
               null::integer as leads_issued, null::integer as exploration_leads,
               null::integer as exploration_confirmed, null::integer as train_verdicts,
               null::double as ranked_precision
        from (values (10), (20), (50)) v(k)
        union all
        select 'backtest|' || m || '|dispatch|' || model, 'backtest', (m || '-01')::date, m,
               50, 'dispatch', model, 8, hits, 12, hits / 8, hits / 12,
               50, case when model = 'learned_with_exploration' then 5 else 0 end, 1,
               40, hits / 12
        from (values ('2026-09'), ('2026-10')) a(m),
             (values ('learned', 5), ('prior_only', 3), ('learned_with_exploration', 5)) b(model, hits)
        """
    )
    ex(
        """
        create table marts.mart_group_rental_model as
        select 'synthetic0001|' || factor_code as model_term_id, 'synthetic0001' as model_version,
               timestamp '2026-11-01 02:00:00' as trained_at, 'learned' as model_kind,
               null::varchar as prior_only_reason, 120 as verdicts_used, 30 as positives,
               90 as negatives, 4 as occupancy_signals, 'platt_out_of_fold' as calibration_method,
               2 as backtest_months, 0.6 as backtest_precision_learned,
               0.4 as backtest_precision_prior, 0.62 as backtest_hit_rate_learned,
               0.38 as backtest_hit_rate_prior, 0.6 as backtest_hit_rate_with_exploration,
               0.5 as backtest_precision_exploit_only, 0.1 as exploration_precision_gain,
               50 as monthly_capacity, 0.1 as exploration_share,
               0.8 as exploration_cost_expected_hits, factor_code, factor_name,
               coefficient, coefficient * 0.7 as prior_coefficient,
               coefficient * 0.3 as standardised_coefficient, 0.1 as feature_mean,
               0.3 as feature_std
        from (values ('corroborating_sources', '多个系统同时出现迹象', 1.2),
                     ('occupants_per_10m2', '每10㎡居住人数', 0.8),
                     ('group_rental_complaints_365d', '群租投诉', 0.5)) t(factor_code, factor_name, coefficient)
        """
    )
    ex(
        """
        create table marts.mart_group_rental_contributions as
        select house_id || '|' || factor_code as contribution_id, house_id, factor_code,
               factor_name, 3.0 as shown_value, false as is_rule, false as crosses_threshold,
               0.5 as intensity, 5.0 as prior_contribution, coefficient * 0.5 as contribution,
               0.2 as z_value, factor_name || '3件' as reason
        from marts.mart_group_rental_scores,
             (values ('corroborating_sources', '多个系统同时出现迹象', 1.2),
                     ('group_rental_complaints_365d', '群租投诉', 0.5)) t(factor_code, factor_name, coefficient)
        """
    )
    ex(
        """
        create table marts.mart_rental_check_exceptions as
        select 'K99999999' as check_id, 'QZ0000000000' as lead_id, null::varchar as house_id,
               timestamp '2026-10-20 10:00:00' as checked_at, '确认出租' as verdict,
               '某区某路1号' as address, null::varchar as district, '城东派出所' as unit,
               '房屋未登记或地址无法匹配' as problem
        """
    )
    _notices(con)
    _quality(con)


def _notices(con: duckdb.DuckDBPyConnection) -> None:
    """The notice marts (dbt_project/models/marts/notices), a few rows from the alerts."""
    ex = con.execute
    ex(
        """
        create table marts.mart_notices as
        with n as (
            select month_start, month, region_level, region_key, region_name, district, street,
                   count(*) as alert_count,
                   count(*) filter (where severity = '高') as high_alert_count,
                   string_agg(indicator_name, '、' order by indicator_code) as indicator_names
            from marts.mart_alerts where is_worsening group by all
        ), numbered as (
            select *, year(month_start) as notice_year,
                   month(month_start) * 1000 + dense_rank() over (order by region_key)
                       as notice_seq,
                   month_start + interval 1 month + interval 10 hour as issued_at
            from n
        )
        select '平安提示〔' || notice_year || '〕第' || notice_seq || '号' as notice_id,
               notice_year, notice_seq, month_start, month, region_level, region_key,
               region_name, district, street, alert_count, high_alert_count, indicator_names,
               issued_at, issued_at + interval 15 day as due_at,
               (['已下发', '已签收', '已反馈', '已销号', '退回重办'])[1 + notice_seq % 5]
                   as status,
               issued_at + interval 3 day as status_at,
               issued_at + interval 1 day as signed_at,
               case when notice_seq % 5 >= 2 then issued_at + interval 3 day end as reported_at,
               case when notice_seq % 5 >= 3 then issued_at + interval 5 day end as decided_at,
               notice_seq % 3 as feedback_count, null::varchar as feedback_unit,
               null::varchar as measures,
               1.0 as days_issued, 2.0 as days_signed, 2.0 as days_reported,
               case when notice_seq % 5 = 4 then 3.0 end as days_returned, 5.0 as days_open,
               notice_seq % 5 in (0, 1, 4) and month < '2026-10' as is_overdue,
               false as is_reported_late, notice_seq % 7 = 0 as has_feedback_before_issue,
               false as has_other_unit, timestamp '2026-11-01 00:00:00' as as_of_at
        from numbered
        """
    )
    ex(
        """
        create table marts.mart_notice_items as
        select a.alert_id, n.notice_id, a.month_start, a.month, a.region_level, a.region_key,
               a.region_name, a.district, a.indicator_code, a.indicator_name, a.unit,
               a.severity, a.value, a.previous_value, a.change_abs, a.change_pct,
               a.last_year_value, a.level_average,
               a.expected_low, a.expected_high, '超出预期范围' as evidence, a.message
        from marts.mart_alerts a
        join marts.mart_notices n using (region_key, month_start)
        where a.is_worsening
        """
    )
    ex(
        """
        create table marts.mart_notice_drivers as
        select i.alert_id || '|' || k.kind || '|' || r.rk as driver_id, i.notice_id,
               i.alert_id, i.indicator_code, k.kind as driver_kind, r.rk as driver_rank,
               case k.kind when '类别' then ['盗窃', '纠纷', '噪音'][r.rk]
                    else ['人民路', '工农路', '青年路'][r.rk] || (10 * r.rk) || '号' end
                   as driver_label,
               4 - r.rk as driver_count, 1 as previous_count, true as is_listed
        from marts.mart_notice_items i
        cross join (values ('类别'), ('地点')) k(kind)
        cross join (values (1), (2), (3)) r(rk)
        """
    )
    ex(
        """
        create table marts.mart_notice_effect as
        select alert_id, notice_id, month_start, month, region_level, region_key,
               region_name, district, indicator_code, indicator_name, unit, value,
               expected_high, expected_low, value * 0.8 as value_1m,
               case when month < '2026-10' then hash(alert_id) % 3 > 0 end
                   as is_back_in_range_1m,
               value * 0.7 as value_2m,
               case when month < '2026-09' then hash(alert_id) % 4 > 0 end
                   as is_back_in_range_2m
        from marts.mart_notice_items
        """
    )
    ex(
        """
        create table marts.mart_notice_effect_rates as
        select coalesce(district, '全市') || '|' || coalesce(indicator_code, '全部') as rate_id,
               coalesce(district, '全市') as district,
               coalesce(indicator_code, '全部') as indicator_code,
               coalesce(indicator_name, '全部') as indicator_name,
               count(*) as notified, count(is_back_in_range_1m) as judged_1m,
               count(*) filter (where is_back_in_range_1m) as back_1m,
               count(*) filter (where is_back_in_range_1m)
                   / nullif(count(is_back_in_range_1m), 0) as back_rate_1m,
               count(is_back_in_range_2m) as judged_2m,
               count(*) filter (where is_back_in_range_2m) as back_2m,
               count(*) filter (where is_back_in_range_2m)
                   / nullif(count(is_back_in_range_2m), 0) as back_rate_2m
        from marts.mart_notice_effect
        group by grouping sets ((district, indicator_code, indicator_name), (district),
                                (indicator_code, indicator_name), ())
        """
    )
    ex(
        """
        create table marts.mart_notice_feedback_unmatched as
        select * from (values
            ('FK2026090999', '平安提示〔2026〕第9999号', '和平桥街道', '已签收',
             timestamp '2026-10-05 09:00:00', '提示单编号不存在（未下发过该编号）')
        ) v(feedback_id, quoted_notice_id, unit, status, updated_at, reason)
        """
    )


def _quality(con: duckdb.DuckDBPyConnection) -> None:
    ex = con.execute
    ex(
        """
        create table raw.load_ledger (file_name varchar, file_path varchar, file_sha256 varchar,
            file_bytes bigint, entity varchar, status varchar, rows_read bigint,
            rows_loaded bigint, rows_rejected bigint, rows_warned bigint, reason varchar,
            ingested_at timestamp, delivery_seq bigint)
        """
    )
    ledger = [
        ("12345_工单_20261031.csv", "hotline_tickets", "loaded", 1200, 1195, 5, 3, None,
         datetime(2026, 10, 31, 23, 0), 1),
        ("网格_事件_20261031.csv", "grid_events", "loaded", 900, 900, 0, 0, None,
         datetime(2026, 10, 31, 23, 5), 2),
        ("公安_警情_20261031.csv", "police_incidents", "loaded", 300, 298, 2, 0, None,
         datetime(2026, 10, 31, 23, 10), 3),
        ("出租房屋_登记_202610.xlsx", "rental_houses", "loaded", 5000, 4990, 10, 4, None,
         datetime(2026, 10, 20, 8, 0), 4),
        ("出租房屋_登记_202610.xlsx", "rental_houses", "duplicate", 0, 0, 0, 0,
         "与已入库文件内容相同", datetime(2026, 10, 21, 8, 0), 5),
        ("工单导出(1).xlsx", None, "rejected", 0, 0, 0, 0, "无法识别表头",
         datetime(2026, 10, 30, 9, 0), 6),
    ]  # fmt: skip
    con.executemany(
        "insert into raw.load_ledger values (?, ?, 'sha' || ?, 1000, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(r[0], "landing/" + r[0], r[9], *r[1:]) for r in ledger],
    )
    ex(
        """
        create table raw.rejected_rows as
        select 'sha1' as file_sha256, 'hotline_tickets' as entity, cast(i + 2 as bigint)
               as _row_number, '工单编号为空' as reason,
               '{"工单编号": "", "来电号码": "138****5678"}'::json as row_json
        from range(5) t(i)
        """
    )
    ex(
        """
        create table raw.row_warnings as
        select 'sha1' as file_sha256, 'hotline_tickets' as entity, cast(i + 10 as bigint)
               as _row_number, 'satisfaction' as column_name, '未知枚举值' as reason,
               '很满意' as value
        from range(3) t(i)
        """
    )
    ex(
        """
        create table quality.check_results (run_id varchar, checked_at timestamp,
            kind varchar, entity varchar, relation varchar, check_name varchar,
            severity varchar, column_name varchar, passed boolean, observed_value varchar,
            unexpected_count bigint, element_count bigint, details json)
        """
    )
    ex(
        """
        insert into quality.check_results values
        ('run-0', '2026-10-31 05:50:00', 'gx', 'hotline_tickets', 'staging.stg_hotline__tickets',
         'not_null:ticket_id', 'critical', 'ticket_id', false, '2 nulls', 2, 1000, null),
        ('run-1', '2026-11-01 05:50:00', 'gx', 'hotline_tickets', 'staging.stg_hotline__tickets',
         'not_null:ticket_id', 'critical', 'ticket_id', true, '0 nulls', 0, 1200, null),
        ('run-1', '2026-11-01 05:50:00', 'gx', 'hotline_tickets', 'staging.stg_hotline__tickets',
         'in_set:status', 'critical', 'status', true, '0 unexpected', 0, 1200, null),
        ('run-1', '2026-11-01 05:50:00', 'gx', 'rental_houses', 'staging.stg_rental__houses',
         'between:floor_area_m2', 'warning', 'floor_area_m2', false, '12 outside 5..1000',
         12, 5000, null),
        ('run-1', '2026-11-01 05:50:00', 'freshness', 'grid_events', null,
         'freshness', 'warning', null, true, 'last delivery 8 h ago', null, null,
         '{"late_hours": 0.0}')
        """
    )
