-- Normalised, weighted indicators of the safety index (OECD/JRC composite indicator):
-- min-max (optionally winsorised) normalisation per level across all units and months,
-- reversed for negative indicators; weights of missing indicators (including values
-- whose records could not be placed in the unit: value_status 'unattributed')
-- redistributed.
with

values_ as (
    select * from {{ ref('int_safety_indicator_values') }}
),

indicators as (
    select * from {{ ref('safety_indicators') }}
),

bounds as (
    select
        v.region_level,
        v.indicator_code,
        min(v.raw_value) as min_value,
        max(v.raw_value) as max_value,
        percentile_cont(0.05) within group (order by v.raw_value) as p05_value,
        percentile_cont(0.95) within group (order by v.raw_value) as p95_value
    from values_ as v
    where v.raw_value is not null
    group by 1, 2
),

scaled as (
    select
        v.*,
        i.indicator_name,
        i.unit,
        i.direction,
        i.weight,
        case when i.normalisation = 'minmax_winsor' then b.p05_value else b.min_value end
            as lower_bound,
        case when i.normalisation = 'minmax_winsor' then b.p95_value else b.max_value end
            as upper_bound
    from values_ as v
    inner join indicators as i
        on v.indicator_code = i.indicator_code
    left join bounds as b
        on v.region_level = b.region_level
        and v.indicator_code = b.indicator_code
),

normalised as (
    select
        *,
        case
            when raw_value is null then null
            -- every unit at the same value: no unit is worse than another
            when upper_bound <= lower_bound then 100.0
            else 100.0 * (
                least(greatest(raw_value, lower_bound), upper_bound) - lower_bound
            ) / (upper_bound - lower_bound)
        end as scaled_value
    from scaled
),

oriented as (
    select
        *,
        case
            when scaled_value is null then null
            when direction = 'negative' and upper_bound > lower_bound then 100.0 - scaled_value
            else scaled_value
        end as normalised_value
    from normalised
),

weighted as (
    select
        *,
        sum(case when normalised_value is not null then weight else 0 end) over (
            partition by region_level, region_key, month_start
        ) as observed_weight,
        sum(weight) over (partition by region_level, region_key, month_start) as total_weight
    from oriented
),

final as (
    select
        {{ dbt.concat(["region_key", "'|'", month_text('month_start'), "'|'", "indicator_code"]) }}
            as component_id,
        {{ dbt.concat(["region_key", "'|'", month_text('month_start')]) }} as index_id,
        month_start,
        {{ month_text('month_start') }} as month,
        region_level,
        region_key,
        region_name,
        district,
        street,
        population,
        indicator_code,
        indicator_name,
        unit,
        direction,
        raw_value,
        base_count,
        value_status,
        attribution_coverage,
        normalised_value,
        weight,
        case
            when normalised_value is not null and observed_weight > 0
                then weight / observed_weight
            else 0.0
        end as effective_weight,
        case
            when normalised_value is not null and observed_weight > 0
                and observed_weight / total_weight >= {{ var('index_min_weight_coverage') }}
                then weight / observed_weight * normalised_value
        end as contribution,
        observed_weight / total_weight as weight_coverage
    from weighted
)

select * from final
