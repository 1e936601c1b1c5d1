"""The safety-and-stability index (平安稳定指数): units, trends, components, sensitivity.

Part of :mod:`dashboards.data`, the one layer that knows SQL (its docstring has the rules).
"""

from __future__ import annotations


import pandas as pd

from dashboards.data.snapshot import IN_SCOPE, Scope, _require_city_wide, city_wide, in_scope, query

# ---------------------------------------------------------------- safety index

# Map positions of districts and streets: the mean position of their dwellings (the marts
# publish no region coordinates). ``level`` keeps a district row apart from a street row
# whose street is unknown.
_CENTROIDS = """
    centroids as (
        select district, street,
               case when grouping(street) = 1 then 'district' else 'street' end as level,
               avg(lon) as lon, avg(lat) as lat
        from marts.dim_dwelling
        where lon is not null and lat is not null
        group by grouping sets ((district), (district, street))
    )
"""


def index_units(scope: Scope, month: str, level: str, district: str | None = None) -> pd.DataFrame:
    """Index of every district (level='district') or street of a month, ranked, with centroids
    and the rank's 5-95% interval over the construction choices (withheld with the rank)."""
    _require_city_wide(scope, "safety_index")
    # The mart ranks among all units of the level; without ``index_rank`` published an
    # officer's units are ranked among themselves (window functions run after the
    # scope filter) and the rank change is withheld.
    sql = f"""
        with {_CENTROIDS}
        select i.region_key, i.region_name, i.district, i.street, i.safety_index, i.grade,
               case when ? then i.rank
                    when i.safety_index is not null
                    -- rounded as the mart ranks (float noise of the summation order ties)
                    then rank() over (order by round(i.safety_index, 9) desc nulls last)
               end as rank,
               case when ? then i.units_ranked
                    else count(i.safety_index) over () end as units_ranked,
               i.index_change_mom,
               case when ? then i.rank_change_mom end as rank_change_mom,
               i.population, i.weight_coverage, c.lon, c.lat,
               case when ? then u.rank_p05 end as rank_p05,
               case when ? then u.rank_p50 end as rank_p50,
               case when ? then u.rank_p95 end as rank_p95,
               case when ? then u.rank_change_within_interval end as rank_change_within_interval
        from marts.mart_safety_index i
        left join centroids c
          on c.level = i.region_level and c.district = i.district
         and c.street is not distinct from i.street
        left join marts.mart_safety_index_uncertainty u on u.index_id = i.index_id
        where i.month = ? and i.region_level = ?
          and (cast(? as varchar) is null or i.district = ?)
          and {in_scope("i.district")}
        order by rank nulls last, i.region_key
    """
    # the rank interval is a rank among all units too: shown only where ranks are
    ranks = [city_wide(scope, "index_rank")] * 7
    return query(sql, [*ranks, month, level, district, district, *scope.params()])


def index_sensitivity(month: str, level: str) -> pd.DataFrame:
    """Which construction choice moves the ranks of a level most in a month, one row per
    choice (strongest first). Aggregates over every unit of the level: no district rows."""
    sql = """
        select choice, choice_name, first_order_index, choice_rank,
               max(mean_abs_rank_shift) - min(mean_abs_rank_shift) as shift_range,
               -- each option with the mean rank shift of the draws that took it
               string_agg(option_name || ' ' || printf('%.1f', mean_abs_rank_shift), '；'
                          order by option) as options
        from marts.mart_safety_index_sensitivity
        where month = ? and region_level = ?
        group by choice, choice_name, first_order_index, choice_rank
        order by choice_rank
    """
    return query(sql, [month, level])


def headline_index(scope: Scope, months: int = 12) -> pd.DataFrame:
    """The index of the reader's whole area per month: the city (population-weighted mean of
    the district indices; the marts publish no city row) or the officer's own district."""
    _require_city_wide(scope, "safety_index")
    sql = f"""
        with d as (
            select month, safety_index, coalesce(population, 0) as population
            from marts.mart_safety_index
            where region_level = 'district' and safety_index is not null and {IN_SCOPE}
        ),
        m as (
            select month,
                   case when sum(population) > 0
                        then sum(safety_index * population) / sum(population)
                        else avg(safety_index) end as safety_index,
                   count(*) as districts
            from d group by month
        )
        select * from (select * from m order by month desc limit ?) order by month
    """
    return query(sql, [*scope.params(), months])


def unit_trend(scope: Scope, region_key: str, months: int = 12) -> pd.DataFrame:
    _require_city_wide(scope, "safety_index")
    sql = f"""
        select * from (
            select month, safety_index,
                   case when ? then rank end as rank,
                   case when ? then units_ranked end as units_ranked,
                   grade
            from marts.mart_safety_index
            where region_key = ? and {IN_SCOPE}
            order by month desc limit ?
        ) order by month
    """
    ranks = [city_wide(scope, "index_rank")] * 2
    return query(sql, [*ranks, region_key, *scope.params(), months])


def unit_components(scope: Scope, region_key: str, month: str) -> pd.DataFrame:
    """Each indicator's contribution to a unit's index, against the mean of its level.

    ``gap`` > 0: the indicator pulls the unit up compared with a typical unit. The
    average is over all units of the level, or for an officer (``level_average`` not
    published city-wide) over the units of the own district."""
    _require_city_wide(scope, "safety_index")
    sql = f"""
        with level_avg as (
            select indicator_code, region_level, avg(contribution) as avg_contribution
            from marts.mart_safety_index_components
            where month = ? and {IN_SCOPE}
            group by indicator_code, region_level
        )
        select c.indicator_code, c.indicator_name, c.unit, c.direction, c.raw_value,
               c.value_status, c.attribution_coverage, c.normalised_value, c.weight,
               c.effective_weight, c.contribution, a.avg_contribution,
               c.contribution - a.avg_contribution as gap
        from marts.mart_safety_index_components c
        join level_avg a using (indicator_code, region_level)
        where c.region_key = ? and c.month = ?
          and {in_scope("c.district")}
        order by c.contribution desc
    """
    average_over = [None, None] if city_wide(scope, "level_average") else scope.params()
    return query(sql, [month, *average_over, region_key, month, *scope.params()])
