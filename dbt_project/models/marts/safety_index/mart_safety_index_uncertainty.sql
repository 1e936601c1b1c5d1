-- How sure each published rank is: over the Monte Carlo draws of the construction
-- choices (mart_safety_index_draw_ranks), the median rank and the 5-95% interval of the
-- unit's rank in its level and month (JRC/OECD handbook, uncertainty analysis).
-- The interval is widened, when needed, to hold the published rank itself (the
-- published construction is one of the possible ones; rank_outside_draws says when
-- that happened). A month-over-month rank change is within noise when last month's
-- rank lies inside this month's interval.
with

point as (
    select * from {{ ref('mart_safety_index') }}
),

draw_ranks as (
    select * from {{ ref('mart_safety_index_draw_ranks') }}
),

months as (
    select * from {{ ref('dim_month') }}
),

spread as (
    select
        index_id,
        count(*) as draws,
        count(draw_rank) as draws_ranked,
        percentile_disc(0.05) within group (order by draw_rank) as draw_rank_p05,
        percentile_disc(0.5) within group (order by draw_rank) as draw_rank_p50,
        percentile_disc(0.95) within group (order by draw_rank) as draw_rank_p95
    from draw_ranks
    group by 1
),

previous as (
    select
        p.index_id,
        prev.rank as previous_rank
    from point as p
    inner join months as m
        on p.month_start = m.month_start
    inner join point as prev
        on p.region_key = prev.region_key
        and p.region_level = prev.region_level
        and prev.month_start = m.previous_month_start
),

final as (
    select
        p.index_id,
        p.month_start,
        p.month,
        p.region_level,
        p.region_key,
        p.region_name,
        p.district,
        p.street,
        p.safety_index,
        p.rank,
        cast(p.units_ranked as bigint) as units_ranked,
        case when p.rank is not null then least(s.draw_rank_p05, p.rank) end as rank_p05,
        case when p.rank is not null then s.draw_rank_p50 end as rank_p50,
        case when p.rank is not null then greatest(s.draw_rank_p95, p.rank) end as rank_p95,
        coalesce(s.draws, 0) as draws,
        coalesce(s.draws_ranked, 0) as draws_ranked,
        p.rank is not null
            and (p.rank < s.draw_rank_p05 or p.rank > s.draw_rank_p95) as rank_outside_draws,
        p.rank_change_mom,
        pr.previous_rank,
        case
            when p.rank is not null and pr.previous_rank is not null
                then pr.previous_rank between least(s.draw_rank_p05, p.rank)
                    and greatest(s.draw_rank_p95, p.rank)
        end as rank_change_within_interval
    from point as p
    left join spread as s
        on p.index_id = s.index_id
    left join previous as pr
        on p.index_id = pr.index_id
)

select * from final
