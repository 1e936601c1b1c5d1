-- The safety index and rank of every unit and month under each Monte Carlo draw of the
-- construction choices (int_safety_index_mc_draws); read by
-- mart_safety_index_uncertainty and mart_safety_index_sensitivity.
-- Per indicator, the value under each normalisation, 0..100 with 100 = safest, computed
-- like the published one across all units of the level and all months:
--   minmax  the published normalised_value (seed normalisation, winsorised where set);
--   zscore  (value - mean) / sd, reversed for negative indicators, clipped to +-3 sd and
--           mapped linearly onto 0..100;
--   rank    the mid-rank percentile of the value (ties share the middle rank).
-- Aggregation over the indicators available in the draw, weights rescaled over them:
--   arithmetic  the weighted mean (the published index);
--   geometric   exp(weighted mean of ln(value + 1)) - 1: a 0 does not wipe out the
--               unit, and a weak indicator is compensated less than in the mean.
-- no_carry_forward drops carried-forward survey values (their weight is redistributed).
-- As published, a unit is unranked in a draw when less than index_min_weight_coverage
-- of the draw's weight is available.
with

components as (
    select * from {{ ref('mart_safety_index_components') }}
),

draws as (
    select * from {{ ref('int_safety_index_mc_draws') }}
),

available as (
    select
        index_id,
        month_start,
        region_level,
        region_key,
        indicator_code,
        direction,
        raw_value,
        normalised_value,
        value_status
    from components
    where normalised_value is not null
),

moments as (
    select
        region_level,
        indicator_code,
        avg(raw_value) as mean_value,
        stddev_pop(raw_value) as sd_value,
        count(*) as n_values
    from available
    group by 1, 2
),

ranked_values as (
    select
        a.*,
        m.mean_value,
        m.sd_value,
        m.n_values,
        rank() over (
            partition by a.region_level, a.indicator_code order by a.raw_value
        ) - 1 as n_below,
        count(*) over (
            partition by a.region_level, a.indicator_code, a.raw_value
        ) as n_tied
    from available as a
    inner join moments as m
        on a.region_level = m.region_level
        and a.indicator_code = m.indicator_code
),

alternatives as (
    select
        index_id,
        month_start,
        region_level,
        region_key,
        indicator_code,
        value_status,
        normalised_value as minmax_value,
        case
            when sd_value is null or sd_value = 0 then 100.0
            else 100.0 * (
                least(greatest(
                    case when direction = 'negative' then -1 else 1 end
                    * (raw_value - mean_value) / sd_value,
                    -3.0), 3.0) + 3.0
            ) / 6.0
        end as zscore_value,
        case
            when n_values <= 1 then 50.0
            else 100.0 * (
                case
                    when direction = 'negative'
                        then (n_values - 1) - (n_below + (n_tied - 1) / 2.0)
                    else n_below + (n_tied - 1) / 2.0
                end
            ) / (n_values - 1)
        end as rank_value
    from ranked_values
),

unit_months as (
    select distinct
        index_id,
        month_start,
        region_level,
        region_key
    from components
),

draw_values as (
    select
        d.draw_id,
        a.index_id,
        d.aggregation,
        d.weight,
        case d.normalisation
            when 'zscore' then a.zscore_value
            when 'rank' then a.rank_value
            else a.minmax_value
        end as value
    from alternatives as a
    inner join draws as d
        on a.indicator_code = d.indicator_code
    where not (d.survey_option = 'no_carry_forward' and a.value_status = 'carried_forward')
),

draw_scores as (
    select
        draw_id,
        index_id,
        sum(weight) as available_weight,
        case
            when max(aggregation) = 'geometric'
                then exp(sum(weight * ln(value + 1.0)) / sum(weight)) - 1.0
            else sum(weight * value) / sum(weight)
        end as draw_index
    from draw_values
    group by 1, 2
),

all_draws as (
    select distinct draw_id
    from draws
),

final as (
    select
        d.draw_id,
        u.index_id,
        u.month_start,
        u.region_level,
        u.region_key,
        case
            when s.available_weight >= {{ var('index_min_weight_coverage') }}
                then s.draw_index
        end as draw_index,
        case
            when s.available_weight >= {{ var('index_min_weight_coverage') }}
                then rank() over (
                    partition by d.draw_id, u.region_level, u.month_start
                    order by
                        case
                            when s.available_weight >= {{ var('index_min_weight_coverage') }}
                                then 0
                            else 1
                        end,
                        -- rounded so that float noise cannot split a tie of the point rank
                        round(s.draw_index, 9) desc
                )
        end as draw_rank
    from unit_months as u
    cross join all_draws as d
    left join draw_scores as s
        on d.draw_id = s.draw_id
        and u.index_id = s.index_id
)

select * from final
