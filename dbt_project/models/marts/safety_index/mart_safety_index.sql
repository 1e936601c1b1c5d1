-- The safety-and-stability index per unit and month: the sum of the component
-- contributions, with rank and month-over-month / year-over-year changes.
with

components as (
    select * from {{ ref('mart_safety_index_components') }}
),

months as (
    select * from {{ ref('dim_month') }}
),

scores as (
    select
        index_id,
        month_start,
        region_level,
        region_key,
        region_name,
        district,
        street,
        max(population) as population,
        case
            when max(weight_coverage) >= {{ var('index_min_weight_coverage') }}
                then sum(contribution)
        end as safety_index,
        sum(case when value_status not in ('missing', 'unattributed') then 1 else 0 end)
            as indicators_observed,
        count(*) as indicators_total,
        max(weight_coverage) as weight_coverage
    from components
    group by 1, 2, 3, 4, 5, 6, 7
),

ranked as (
    select
        s.*,
        case
            when s.safety_index is not null then rank() over (
                partition by s.region_level, s.month_start
                -- rounded as the draws' ranks are: units whose index differs only by the
                -- float noise of summation order tie, so reruns publish the same ranks
                order by
                    case when s.safety_index is null then 1 else 0 end,
                    round(s.safety_index, 9) desc
            )
        end as rank,
        sum(case when s.safety_index is not null then 1 else 0 end) over (
            partition by s.region_level, s.month_start
        ) as units_ranked
    from scores as s
),

final as (
    select
        r.index_id,
        r.month_start,
        {{ month_text('r.month_start') }} as month,
        r.region_level,
        r.region_key,
        r.region_name,
        r.district,
        r.street,
        r.population,
        r.safety_index,
        case
            when r.safety_index >= 80 then '优'
            when r.safety_index >= 60 then '良'
            when r.safety_index >= 40 then '中'
            when r.safety_index is not null then '差'
        end as grade,
        r.rank,
        r.units_ranked,
        r.safety_index - prev.safety_index as index_change_mom,
        r.safety_index - last_year.safety_index as index_change_yoy,
        prev.rank - r.rank as rank_change_mom,
        r.indicators_observed,
        r.indicators_total,
        r.weight_coverage
    from ranked as r
    inner join months as m
        on r.month_start = m.month_start
    left join ranked as prev
        on r.region_key = prev.region_key
        and r.region_level = prev.region_level
        and prev.month_start = m.previous_month_start
    left join ranked as last_year
        on r.region_key = last_year.region_key
        and r.region_level = last_year.region_level
        and last_year.month_start = m.same_month_last_year_start
)

select * from final
