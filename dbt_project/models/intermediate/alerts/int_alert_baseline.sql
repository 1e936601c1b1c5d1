-- Expected value of each tested unit-month and how unusual the observed one is.
-- Baseline: the unit's own previous var alert_baseline_months months (at least the
-- indicator's min_history_points of them, and reaching at least
-- var alert_min_history_months back), deseasonalised:
--   negative_binomial: level = (sum of events + 0.5) / (sum of their season factors),
--     expected mu = season factor of the month x level;
--   binomial: expected bad share p0 = (sum of bad + 0.5) / (sum of trials + 1).
-- Overdispersion, pooled over the level (district or street) and indicator by the
-- method of moments on the tested unit-months that are not themselves swings (from
-- Poisson, var alert_dispersion_passes passes that each leave out the unit-months
-- beyond var alert_dispersion_z normal scores of the previous estimate), so that
-- planted or real swings do not pass for noise:
--   negative_binomial: variance mu + alpha mu^2;
--   binomial: variance n p0 (1 - p0) x phi.
-- The baseline's own uncertainty (it rests on a few months) widens the prediction:
--   counts: alpha_eff = alpha + 1 / (events in the baseline) + alpha / (baseline months);
--   binomial: n_eff = n / (phi + n / (trials in the baseline)).
-- Tails (macros/alert_stats.sql): p_up = P(Y >= y), p_down = P(Y <= y) and the
-- residual score (a signed, approximately standard-normal residual used by the
-- persistence rule).
{#- the method-of-moments sums of one dispersion pass, over the rows kept as r -#}
{% set dispersion_sums %}
        greatest(0.0, sum(
            case when r.count_model = 'negative_binomial' then
                (r.bad_count - r.expected_count) * (r.bad_count - r.expected_count)
                - r.expected_count
                - r.expected_count * r.expected_count / (r.history_bad + 0.5)
            end
        ) / nullif(sum(
            case when r.count_model = 'negative_binomial'
                then r.expected_count * r.expected_count end
        ), 0)) as alpha,
        greatest(1.0, sum(
            case when r.count_model = 'binomial' then
                (r.bad_count - r.trials * r.expected_share)
                * (r.bad_count - r.trials * r.expected_share)
            end
        ) / nullif(sum(
            case when r.count_model = 'binomial' then
                r.trials * r.expected_share * (1 - r.expected_share)
                * (1 + r.trials / (r.history_trials + 1))
            end
        ), 0)) as phi
{% endset %}

{#- the normal scores that screen a row r under the dispersion d (alpha, phi) -#}
{% set screening_scores %}
        case
            when r.count_model <> 'negative_binomial' then null
            when r.bad_count <= 0 then null
            else {{ nb_upper_score(
                'r.bad_count', 'r.expected_count',
                'd.alpha + 1.0 / (r.history_bad + 0.5) + d.alpha / r.history_points'
            ) }}
        end as score_at,
        case
            when r.count_model <> 'negative_binomial' then null
            else {{ nb_upper_score(
                'r.bad_count + 1', 'r.expected_count',
                'd.alpha + 1.0 / (r.history_bad + 0.5) + d.alpha / r.history_points'
            ) }}
        end as score_above,
        case
            when r.count_model = 'binomial'
                then abs(r.bad_count - r.trials * r.expected_share) / sqrt(
                    d.phi * r.trials * r.expected_share * (1 - r.expected_share)
                    * (1 + r.trials / (r.history_trials + 1))
                )
        end as binomial_z
{% endset %}

{#- a row r beyond Z normal scores in either tail (Z replaced by the caller) -#}
{% set beyond -%}
    coalesce(r.score_at, 0) > Z
        or coalesce(r.score_above, 0) < -Z
        or coalesce(r.binomial_z, 0) > Z
{%- endset %}

{#-
    Screening passes. A trimmed estimate (say without the largest 2% of residuals) keeps
    too many swings where a level has few units (ten districts give about 120 tested
    unit-months, 2% of them two, while a world's district swings, the street swings
    passing through their districts and real incidents are more), and an estimate that
    counts them inflates alpha until a true swing no longer stands out of it (masking).
    So the estimate starts from the narrowest model (Poisson; binomial) and each pass
    leaves out the unit-months beyond var alert_dispersion_z normal scores in either
    tail under the previous pass's model, then re-estimates: alpha grows towards the
    dispersion of the ordinary months and stops where the months left out are the ones
    that are unusual even then (negative binomial: the tail scores of
    macros/alert_stats.sql, exact enough for counts of a handful, where a Pearson z
    would cut into the ordinary upper tail and bias alpha down; binomial: the Pearson z,
    its counts being larger).
#}

with

series as (
    select * from {{ ref('int_alert_series') }}
),

{#-
    Two rounds. Round 1 takes every previous month into the baseline; round 2 leaves
    out the months that round 1 found beyond var alert_baseline_outlier_z normal scores
    (either tail) of their own expectation, so that a lasting step does not become its
    own baseline after a month or two (its later months would look ordinary and only
    the persistence rule could still see it) and a spike or a month of missing records
    does not shift the next twelve months' expectation (as Farrington's algorithm
    downweights the outlying months of its baseline). The overdispersion is estimated
    afresh in each round, on the round's residuals.
-#}
{% for r in [1, 2] %}
history_{{ r }} as (
    select
        t.region_key,
        t.indicator_code,
        t.month_number,
        count(*) as history_points,
        min(h.month_number) as history_first,
        sum(h.bad_count) as history_bad,
        sum(h.season_factor) as history_season,
        sum(h.trials) as history_trials,
        avg(h.raw_value) as history_mean_value
    from series as t
    inner join series as h
        on t.region_key = h.region_key
        and t.indicator_code = h.indicator_code
        and h.month_number < t.month_number
        and h.month_number >= t.month_number - {{ var('alert_baseline_months') }}
    {%- if r > 1 %}
    left join outlying_{{ r - 1 }} as o
        on h.region_key = o.region_key
        and h.indicator_code = o.indicator_code
        and h.month_number = o.month_number
    where o.region_key is null
    {%- endif %}
    group by 1, 2, 3
),

expected_{{ r }} as (
    select
        s.*,
        h.history_points,
        h.history_bad,
        h.history_trials,
        h.history_mean_value,
        coalesce(
            h.history_points >= s.min_history_points
            and s.month_number - h.history_first >= {{ var('alert_min_history_months') }},
            false
        ) as has_history,
        case
            when s.count_model = 'negative_binomial'
                then s.season_factor * (h.history_bad + 0.5) / h.history_season
        end as expected_count,
        case
            when s.count_model = 'binomial'
                then (h.history_bad + 0.5) / (h.history_trials + 1)
        end as expected_share
    from series as s
    left join history_{{ r }} as h
        on s.region_key = h.region_key
        and s.indicator_code = h.indicator_code
        and s.month_number = h.month_number
),

residuals_{{ r }} as (
    select * from expected_{{ r }}
    where has_history
),


dispersion_{{ r }}_0 as (
    -- the start of the screening: Poisson counts, binomial shares without extra variance
    select distinct
        region_level,
        indicator_code,
        0.0 as alpha,
        1.0 as phi
    from residuals_{{ r }}
),

{% for i in range(1, var('alert_dispersion_passes') + 1) %}
screened_{{ r }}_{{ i }} as (
    select
        r.*,
{{ screening_scores }}    from residuals_{{ r }} as r
    inner join dispersion_{{ r }}_{{ i - 1 }} as d
        on r.region_level = d.region_level
        and r.indicator_code = d.indicator_code
),

dispersion_{{ r }}_{{ i }} as (
    select
        r.region_level,
        r.indicator_code,
        {{ dispersion_sums }}
    from screened_{{ r }}_{{ i }} as r
    where not ({{ beyond | replace('Z', var('alert_dispersion_z') | string) }})
    group by 1, 2
),
{% endfor %}

dispersion_{{ r }} as (
    -- the last pass (the previous model where screening left a level and indicator empty:
    -- cannot happen with z >= 3 and more than a handful of unit-months, kept for safety)
    select
        d0.region_level,
        d0.indicator_code,
        coalesce(dn.alpha, d0.alpha) as alpha,
        coalesce(dn.phi, d0.phi) as phi
    from dispersion_{{ r }}_0 as d0
    left join dispersion_{{ r }}_{{ var('alert_dispersion_passes') }} as dn
        on d0.region_level = dn.region_level
        and d0.indicator_code = dn.indicator_code
),

{% if r < 2 %}
outlying_{{ r }} as (
    -- the unit-months that are unusual under this round's model, in either tail: left
    -- out of the next round's baselines
    select
        r.region_key,
        r.indicator_code,
        r.month_number
    from (
        select
            r.*,
{{ screening_scores }}        from residuals_{{ r }} as r
        inner join dispersion_{{ r }} as d
            on r.region_level = d.region_level
            and r.indicator_code = d.indicator_code
    ) as r
    where {{ beyond | replace('Z', var('alert_baseline_outlier_z') | string) }}
),
{% endif %}
{% endfor %}

expected as (
    select * from expected_2
),

dispersion as (
    select * from dispersion_2
),

widened as (
    select
        e.*,
        coalesce(d.alpha, 0) as alpha,
        coalesce(d.phi, 1) as phi,
        case
            when e.count_model = 'negative_binomial'
                then coalesce(d.alpha, 0)
                    + 1.0 / (e.history_bad + 0.5)
                    + coalesce(d.alpha, 0) / e.history_points
        end as alpha_effective,
        case
            when e.count_model = 'binomial'
                then e.trials / (coalesce(d.phi, 1) + e.trials / (e.history_trials + 1))
        end as trials_effective
    from expected as e
    left join dispersion as d
        on e.region_level = d.region_level
        and e.indicator_code = d.indicator_code
    where e.has_history
),

-- the tested count on the model's scale: binomial counts are scaled to the effective
-- number of trials (a design effect), so one formula serves both
scaled as (
    select
        *,
        case
            when count_model = 'binomial' then bad_count * trials_effective / trials
            else bad_count
        end as y,
        case
            when count_model = 'binomial' then expected_share * trials_effective
            else expected_count
        end as mu,
        case
            when count_model = 'binomial'
                then expected_share * (1 - expected_share) * trials_effective
            else expected_count + alpha_effective * expected_count * expected_count
        end as variance,
        least(0.999999, greatest(0.000001, expected_share)) as share
    from widened
),

scored as (
    select
        *,
        -- P(Y >= y) and P(Y >= y + 1) as normal scores
        case
            when y <= 0 then null
            when count_model = 'binomial'
                then {{ binomial_upper_score('least(y, trials_effective)', 'trials_effective', 'share') }}
            else {{ nb_upper_score('y', 'mu', 'alpha_effective') }}
        end as score_at,
        case
            when count_model = 'binomial' and y + 1 > trials_effective then null
            when count_model = 'binomial'
                then {{ binomial_upper_score('y + 1', 'trials_effective', 'share') }}
            else {{ nb_upper_score('y + 1', 'mu', 'alpha_effective') }}
        end as score_above,
        -- the signed residual: the score at y + 1/2 (mean about 0, sd about 1 under the model)
        case
            when count_model = 'binomial' and y + 0.5 >= trials_effective
                then {{ binomial_upper_score('trials_effective', 'trials_effective', 'share') }}
            when count_model = 'binomial'
                then {{ binomial_upper_score('y + 0.5', 'trials_effective', 'share') }}
            else {{ nb_upper_score('y + 0.5', 'mu', 'alpha_effective') }}
        end as residual_score
    from scaled
),

final as (
    select
        *,
        case when score_at is null then 1.0 else {{ normal_upper_tail('score_at') }} end as p_up,
        case
            when score_above is null then 1.0
            else 1 - {{ normal_upper_tail('score_above') }}
        end as p_down
    from scored
)

select * from final
