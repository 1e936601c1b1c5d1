-- The series the alerts test: one row per unit (district, street), indicator and month
-- with a value observed for the unit itself (not inherited, carried forward or missing),
-- expressed as the count whose rise makes the unit less safe:
--   negative_binomial indicators (per-10k rates): y = the month's events;
--   binomial indicators (a share of a known base): y = the "bad" cases of n (hazards
--   not rectified of those due; survey respondents not feeling safe).
-- A quarterly indicator is kept in the first month of each quarter only (the two later
-- months repeat the same survey). season_factor: the seasonal factor of the
-- calendar month for this unit (expected count / the unit's mean), leaving out the
-- tested unit-month itself (so a unit's own spike cannot explain itself away):
--   pooled: over the level's other units and every year in the data, shrunk towards
--     1 by var alert_season_prior_events;
--   own: the unit's same calendar month in other years, where history allows, weighed
--     against the pooled factor by what each says: the own one its expected events,
--     capped by the year-to-year overdispersion; the pooled one as many events as the
--     unit's season agrees with the level's (season_spread below). A unit with a peak of
--     its own, repeated year after year, keeps it; a noisy earlier year does not pass for
--     the unit's season.
-- The parts of the factor are kept, so the baseline can leave a tested month out of its
-- history months' factors and widen the prediction by the factor's own uncertainty.
with

values_ as (
    select * from {{ ref('int_safety_indicator_values') }}
    where value_status = 'observed'
),

indicators as (
    select * from {{ ref('safety_indicators') }}
),

models as (
    select * from {{ ref('alert_models') }}
),

counted as (
    select
        v.region_level,
        v.region_key,
        v.region_name,
        v.district,
        v.street,
        v.population,
        v.month_start,
        cast(extract(year from v.month_start) as integer) * 12
            + cast(extract(month from v.month_start) as integer) as month_number,
        cast(extract(month from v.month_start) as integer) as calendar_month,
        v.indicator_code,
        i.indicator_name,
        i.unit,
        i.direction,
        m.count_model,
        m.cadence,
        m.min_history_points,
        m.min_relative_change,
        m.min_excess_count,
        v.raw_value,
        case when m.count_model = 'binomial' then v.base_count end as trials,
        case
            when m.count_model = 'binomial' and i.direction = 'positive'
                then v.base_count * (1 - v.raw_value / 100.0)
            when m.count_model = 'binomial'
                then v.base_count * v.raw_value / 100.0
            else v.base_count
        end as bad_count
    from values_ as v
    inner join indicators as i
        on v.indicator_code = i.indicator_code
    inner join models as m
        on v.indicator_code = m.indicator_code
    where v.base_count is not null
        and (m.count_model <> 'binomial' or v.base_count > 0)
        and (m.count_model <> 'negative_binomial' or v.population > 0)
),

kept as (
    select * from counted
    where cadence <> 'quarterly' or calendar_month in (1, 4, 7, 10)
),

unit_means as (
    select
        region_level,
        region_key,
        indicator_code,
        avg(bad_count) as unit_mean
    from kept
    group by 1, 2, 3
),

with_means as (
    select
        k.*,
        u.unit_mean
    from kept as k
    inner join unit_means as u
        on k.region_level = u.region_level
        and k.region_key = u.region_key
        and k.indicator_code = u.indicator_code
),

calendar as (
    select
        region_level,
        indicator_code,
        calendar_month,
        sum(bad_count) as calendar_count,
        sum(unit_mean) as calendar_mean
    from with_means
    group by 1, 2, 3
),

own_calendar as (
    select
        region_level,
        region_key,
        indicator_code,
        calendar_month,
        sum(bad_count) as own_count,
        sum(bad_count * bad_count) as own_square,
        count(*) as own_months
    from with_means
    group by 1, 2, 3, 4
),

-- How much a unit's month varies beyond Poisson from one year to the next (the same
-- unit and calendar month, so neither the unit's level nor its own seasonality enters):
-- the overdispersion alpha of variance mu + alpha mu^2 by the method of moments over the
-- level's units, from the calendar months seen in two years or more. With a gamma noise
-- of 25% a month, one earlier July says as much as about 16 events, however many
-- hundreds it counted: the own factor is weighed by that, not by its events.
year_to_year as (
    select
        region_level,
        indicator_code,
        greatest(0.0, coalesce(sum(
            own_square - own_count * own_count / own_months
            - (own_months - 1) * own_count / own_months
        ) / nullif(sum((own_months - 1) * power(own_count / own_months, 2)), 0), 0.0))
            as season_noise_alpha
    from own_calendar
    where own_months >= 2
    group by 1, 2
),

factors as (
    select
        w.*,
        (o.own_count - w.bad_count) as own_other_years_count,
        (o.own_months - 1) * w.unit_mean as own_other_years_mean,
        o.own_months - 1 as own_other_years_months,
        coalesce(n.season_noise_alpha, 0.0) as season_noise_alpha,
        (c.calendar_count - o.own_count + {{ var('alert_season_prior_events') }})
            / (c.calendar_mean - o.own_months * w.unit_mean
                + {{ var('alert_season_prior_events') }}) as pooled_factor
    from with_means as w
    inner join calendar as c
        on w.region_level = c.region_level
        and w.indicator_code = c.indicator_code
        and w.calendar_month = c.calendar_month
    inner join own_calendar as o
        on w.region_key = o.region_key
        and w.indicator_code = o.indicator_code
        and w.calendar_month = o.calendar_month
    left join year_to_year as n
        on w.region_level = n.region_level
        and w.indicator_code = n.indicator_code
),

-- How far a unit's own season strays from the level's (the pooled factor), told apart from
-- noise by whether it repeats: the relative gap d = count / (unit mean x pooled factor) - 1
-- of one year times that of another year of the same calendar month. Noise is independent
-- across years, so those products average to 0, and a season of the unit's own (a beach
-- town's summer) makes them the square of its gap: their mean over the unit's calendar
-- months seen in two years or more is the unit's own seasonal spread^2 (a one-off swing in
-- one year is noise to this). The pooled factor weighs as 1 / spread^2 events: where the
-- unit keeps the level's season, a noisy earlier year does not pass for its own; the
-- spread is taken to be at least var alert_season_spread_min.
gaps as (
    select
        region_key,
        indicator_code,
        calendar_month,
        sum(bad_count / (unit_mean * pooled_factor) - 1) as gap_sum,
        sum(power(bad_count / (unit_mean * pooled_factor) - 1, 2)) as gap_square,
        -- the noise variance of each gap (Poisson and year-to-year overdispersion)
        sum(1.0 / (unit_mean * pooled_factor) + season_noise_alpha) as noise_sum,
        sum(power(1.0 / (unit_mean * pooled_factor) + season_noise_alpha, 2)) as noise_square,
        count(*) as gap_years
    from factors
    where count_model = 'negative_binomial' and unit_mean > 0 and pooled_factor > 0
    group by 1, 2, 3
),

season_spread as (
    select
        region_key,
        indicator_code,
        sum((gap_sum * gap_sum - gap_square) / 2) / sum(gap_years * (gap_years - 1) / 2)
            as spread_sq_estimate,
        -- its standard error where the unit has no season of its own (a product of two
        -- independent noises has the product of their variances)
        sqrt(sum((noise_sum * noise_sum - noise_square) / 2))
            / sum(gap_years * (gap_years - 1) / 2) as spread_sq_error
    from gaps
    where gap_years >= 2
    group by 1, 2
),

weighed as (
    select
        f.*,
        -- counted only as far as it stands out of its own noise: a few small counts
        -- a year apart agree by chance often enough
        1.0 / greatest(
            power({{ var('alert_season_spread_min') }}, 2),
            coalesce(
                p.spread_sq_estimate - {{ var('alert_season_spread_z') }} * p.spread_sq_error,
                0.0
            )
        ) as season_pooled_events
    from factors as f
    left join season_spread as p
        on f.region_key = p.region_key
        and f.indicator_code = p.indicator_code
),

weights as (
    select
        *,
        {{ alert_own_season_weight('own_other_years_mean', 'own_other_years_months',
            'season_noise_alpha', 'season_pooled_events') }} as own_season_weight
    from weighed
),

final as (
    select
        *,
        case
            when count_model = 'negative_binomial'
                then {{ alert_season_blend('own_season_weight', 'own_other_years_count',
                    'own_other_years_mean', 'pooled_factor') }}
            else 1.0
        end as season_factor
    from weights
)

select * from final
