-- Draws of the safety-index construction choices (Monte Carlo uncertainty analysis):
-- one row per draw and indicator. Each draw picks a normalisation, an aggregation and
-- whether the quarterly survey is carried forward, each with equal probability among
-- the options in vars, and perturbs every seed weight by a factor uniform in
-- [1 - index_mc_weight_spread, 1 + index_mc_weight_spread] before rescaling the
-- weights to sum to 1. Pseudo-random numbers come from a hash of (seed, draw, topic),
-- so a rebuild reproduces the same draws.
with

indicators as (
    select * from {{ ref('safety_indicators') }}
),

spine as (
    {{ number_spine(var('index_mc_draws')) }}
),

choices as (
    select
        n as draw_id,
        {{ pick_option(
            uniform_from_key(dbt.concat(["'" ~ var('index_mc_seed') ~ "|'", "cast(n as varchar)", "'|normalisation'"])),
            var('index_mc_normalisations')
        ) }} as normalisation,
        {{ pick_option(
            uniform_from_key(dbt.concat(["'" ~ var('index_mc_seed') ~ "|'", "cast(n as varchar)", "'|aggregation'"])),
            var('index_mc_aggregations')
        ) }} as aggregation,
        {{ pick_option(
            uniform_from_key(dbt.concat(["'" ~ var('index_mc_seed') ~ "|'", "cast(n as varchar)", "'|survey'"])),
            var('index_mc_survey_options')
        ) }} as survey_option
    from spine
),

perturbed as (
    select
        c.draw_id,
        c.normalisation,
        c.aggregation,
        c.survey_option,
        i.indicator_code,
        i.weight as seed_weight,
        i.weight * (
            1 + {{ var('index_mc_weight_spread') }} * (
                2 * {{ uniform_from_key(dbt.concat([
                    "'" ~ var('index_mc_seed') ~ "|'", "cast(c.draw_id as varchar)",
                    "'|weight|'", "i.indicator_code"
                ])) }} - 1
            )
        ) as raw_weight
    from choices as c
    cross join indicators as i
),

rescaled as (
    select
        *,
        raw_weight / sum(raw_weight) over (partition by draw_id) as weight,
        seed_weight / sum(seed_weight) over (partition by draw_id) as seed_share
    from perturbed
),

final as (
    select
        draw_id,
        indicator_code,
        normalisation,
        aggregation,
        survey_option,
        seed_weight,
        weight,
        -- how far the draw's weights are from the seed's: half the L1 distance (0..1)
        0.5 * sum(abs(weight - seed_share)) over (partition by draw_id) as weight_shift
    from rescaled
)

select * from final
