-- Expected value of each tested unit-month and how unusual the observed one is.
-- Baseline: the unit's own previous var alert_baseline_months months (at least the
-- indicator's min_history_points of them, and reaching at least
-- var alert_min_history_months back), deseasonalised:
--   negative_binomial: level = (sum of events + 0.5) / (sum of their season factors),
--     expected mu = season factor of the month x level;
--   binomial: expected bad share p0 = (sum of bad + 0.5) / (sum of trials + 1).
-- Overdispersion, pooled over the level (district or street) and indicator by the
-- method of moments on every tested unit-month (the largest 2% of squared Pearson
-- residuals left out, so planted or real swings do not pass for noise):
--   negative_binomial: variance mu + alpha mu^2;
--   binomial: variance n p0 (1 - p0) x phi.
-- The baseline's own uncertainty (it rests on a few months) widens the prediction:
--   counts: alpha_eff = alpha + 1 / (events in the baseline) + alpha / (baseline months)
--     + the season factor's relative variance (season_poisson + alpha season_alpha_coef);
--   binomial: n_eff = n / (phi + n / (trials in the baseline)).
-- Tails (macros/alert_stats.sql): p_up = P(Y >= y), p_down = P(Y <= y) and the
-- residual score (a signed, approximately standard-normal residual used by the
-- persistence rule).
with

series as (
    select * from {{ ref('int_alert_series') }}
),

history as (
    select
        t.region_key,
        t.indicator_code,
        t.month_number,
        count(*) as history_points,
        min(h.month_number) as history_first,
        sum(h.bad_count) as history_bad,
        -- the same calendar month of an earlier year had its factor estimated partly
        -- from the tested month itself: recomputed without it, so a high month cannot
        -- lower its own baseline (the factor's level would absorb part of the rise)
        sum(case
            when h.count_model = 'negative_binomial'
                and h.calendar_month = t.calendar_month
                and h.unit_mean > 0
                then {{ alert_season_blend(
                    alert_own_season_weight('h.own_other_years_mean - h.unit_mean',
                        'h.own_other_years_months - 1', 'h.season_noise_alpha',
                        'h.season_pooled_events'),
                    'h.own_other_years_count - t.bad_count',
                    'h.own_other_years_mean - h.unit_mean',
                    'h.pooled_factor'
                ) }}
            else h.season_factor
        end) as history_season,
        sum(h.trials) as history_trials,
        avg(h.raw_value) as history_mean_value
    from series as t
    inner join series as h
        on t.region_key = h.region_key
        and t.indicator_code = h.indicator_code
        and h.month_number < t.month_number
        and h.month_number >= t.month_number - {{ var('alert_baseline_months') }}
    group by 1, 2, 3
),

expected as (
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
        end as expected_share,
        -- the season factor's own uncertainty, relative (its variance / factor^2): its
        -- own part (weight w, from the same month of M expected events over k other
        -- years) varies as 1 / (M x factor) + alpha / k, relative
        case
            when s.count_model = 'negative_binomial' and s.own_season_weight > 0
                then s.own_season_weight * s.own_season_weight
                    / (s.own_other_years_mean * s.season_factor)
            else 0.0
        end as season_poisson,
        case
            when s.count_model = 'negative_binomial' and s.own_season_weight > 0
                then s.own_season_weight * s.own_season_weight / s.own_other_years_months
            else 0.0
        end as season_alpha_coef
    from series as s
    left join history as h
        on s.region_key = h.region_key
        and s.indicator_code = h.indicator_code
        and s.month_number = h.month_number
),

residuals as (
    select
        *,
        case
            when count_model = 'negative_binomial'
                then (bad_count - expected_count) * (bad_count - expected_count)
                    / expected_count
            else (bad_count - trials * expected_share) * (bad_count - trials * expected_share)
                / (trials * expected_share * (1 - expected_share))
        end as pearson_sq
    from expected
    where has_history
),

trim_limits as (
    select
        region_level,
        indicator_code,
        {{ alert_quantile('pearson_sq', var('alert_dispersion_keep')) }} as pearson_sq_limit
    from residuals
    group by 1, 2
),

dispersion as (
    select
        r.region_level,
        r.indicator_code,
        greatest(0.0, sum(
            case when r.count_model = 'negative_binomial' then
                (r.bad_count - r.expected_count) * (r.bad_count - r.expected_count)
                - r.expected_count
                - r.expected_count * r.expected_count
                    * (1.0 / (r.history_bad + 0.5) + r.season_poisson)
            end
        ) / nullif(sum(
            case when r.count_model = 'negative_binomial'
                then r.expected_count * r.expected_count * (1 + r.season_alpha_coef) end
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
    from residuals as r
    inner join trim_limits as l
        on r.region_level = l.region_level
        and r.indicator_code = l.indicator_code
    where r.pearson_sq <= l.pearson_sq_limit
    group by 1, 2
),

widened as (
    select
        e.*,
        coalesce(d.alpha, 0) as alpha,
        coalesce(d.phi, 1) as phi,
        case
            when e.count_model = 'negative_binomial'
                then coalesce(d.alpha, 0)
                    * (1 + 1.0 / e.history_points + e.season_alpha_coef)
                    + 1.0 / (e.history_bad + 0.5)
                    + e.season_poisson
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
