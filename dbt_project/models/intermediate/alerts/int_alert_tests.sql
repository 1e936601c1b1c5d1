-- The alert decision of every tested unit-month and indicator.
-- Two rules on the worsening side:
--   jump (单月突增/骤降): the month alone, p_jump = P(Y >= y) for the "bad" count;
--   persistence (持续恶化): an EWMA (weight var alert_ewma_lambda) of the residual scores of
--     the last var alert_ewma_months months (each clipped at var alert_ewma_clip_z),
--     standardised by its own standard deviation under the model or, where larger, by
--     the robust spread of the level's EWMA scores (months of a unit are correlated), so
--     that a lasting step of moderate months adds up;
-- and one on the improving side: p_down = P(Y <= y) (单月明显好转).
-- p_value: worsening: the smaller of the two worsening rules, Bonferroni x2; improving:
-- p_down. q_value: Benjamini-Hochberg over the tests of the month at one level (the
-- districts, or the streets: a district is judged among the few districts, not drowned
-- in ten times as many street tests), the worsening and the improving side each a family
-- of its own: the expected share of false alarms among a month's worsening alerts of a
-- level is at most var alert_fdr_q (and likewise among its improving ones). An alert
-- also needs a material move: at least min_relative_change and min_excess_count (seed
-- alert_models) beyond the expected value.
with

baseline as (
    select * from {{ ref('int_alert_baseline') }}
),

ewma_terms as (
    select
        t.region_key,
        t.indicator_code,
        t.month_number,
        sum(
            {{ var('alert_ewma_lambda') }}
            * power(1 - {{ var('alert_ewma_lambda') }}, t.month_number - h.month_number)
            -- clipped at the outlier limit: a single extreme month is the jump rule's,
            -- and must not keep the months after it "persistently" high (a robust
            -- EWMA, as Huber-type clipping does for CUSUM charts)
            * least(h.residual_score, {{ var('alert_ewma_clip_z') }})
        ) as ewma,
        sqrt(sum(
            power(
                {{ var('alert_ewma_lambda') }}
                * power(1 - {{ var('alert_ewma_lambda') }}, t.month_number - h.month_number),
                2
            )
        )) as ewma_sd,
        count(*) as ewma_months,
        min(h.residual_score) as ewma_min_score
    from baseline as t
    inner join baseline as h
        on t.region_key = h.region_key
        and t.indicator_code = h.indicator_code
        and h.month_number <= t.month_number
        and h.month_number > t.month_number - {{ var('alert_ewma_months') }}
    group by 1, 2, 3
),

with_ewma_raw as (
    select
        b.*,
        e.ewma / e.ewma_sd as ewma_model_score,
        e.ewma_months,
        -- the persistence rule looks at two months or more, and only at counts large
        -- enough for an average of residual scores to be near normal (with an expected
        -- count of 0.2 a month, one month of 2 cases would pass for a lasting shift)
        e.ewma_months >= 2 and b.mu >= {{ var('alert_persist_min_expected') }}
            as is_persist_tested
    from baseline as b
    inner join ewma_terms as e
        on b.region_key = e.region_key
        and b.indicator_code = e.indicator_code
        and b.month_number = e.month_number
),

-- The model's standard deviation of the EWMA assumes independent months; a unit's
-- months are not (its level drifts, so residuals of neighbouring months share a
-- sign), and with hundreds of events a month a drift of a few percent passes for a
-- lasting rise. The spread the EWMA scores really have over the level and indicator,
-- robustly (median of the squared scores against a chi-square(1)'s 0.455, so planted or
-- real shifts do not count as spread), widens the score where it exceeds the model's.
ewma_spread as (
    select
        region_level,
        indicator_code,
        sqrt({{ alert_quantile('ewma_model_score * ewma_model_score', 0.5) }} / 0.4549)
            as ewma_spread
    from with_ewma_raw
    where is_persist_tested
    group by 1, 2
),

with_ewma as (
    select
        w.*,
        w.ewma_model_score / greatest(1.0, coalesce(s.ewma_spread, 1.0)) as ewma_score
    from with_ewma_raw as w
    left join ewma_spread as s
        on w.region_level = s.region_level
        and w.indicator_code = s.indicator_code
),

tails as (
    select
        *,
        case
            when is_persist_tested then {{ normal_upper_tail('ewma_score') }}
            else 1.0
        end as p_persist
    from with_ewma
),

sides as (
    select
        *,
        least(1.0, 2 * least(p_up, p_persist)) as p_worse,
        case when p_persist < p_up then 'persist' else 'jump' end as worse_rule
    from tails
),

ranked as (
    select
        *,
        row_number() over (
            partition by month_number, region_level
            order by p_worse, region_key, indicator_code
        ) as worse_rank,
        row_number() over (
            partition by month_number, region_level
            order by p_down, region_key, indicator_code
        ) as better_rank,
        count(*) over (partition by month_number, region_level) as month_tests
    from sides
),

adjusted as (
    -- Benjamini-Hochberg: q_(i) = min over j >= i of p_(j) m / j
    select
        *,
        least(1.0, min(p_worse * month_tests / worse_rank) over (
            partition by month_number, region_level
            order by worse_rank desc
            rows between unbounded preceding and current row
        )) as q_worse,
        least(1.0, min(p_down * month_tests / better_rank) over (
            partition by month_number, region_level
            order by better_rank desc
            rows between unbounded preceding and current row
        )) as q_better
    from ranked
),

decided as (
    -- the side the month moved to (the smaller q; worsening on a tie)
    select
        *,
        case when q_better < q_worse then 'down' else worse_rule end as rule_code,
        case when q_better < q_worse then p_down else p_worse end as p_value,
        case when q_better < q_worse then q_better else q_worse end as q_value
    from adjusted
),

expected_counts as (
    select
        *,
        case when count_model = 'binomial' then expected_share * trials else expected_count end
            as expected_bad
    from decided
),

final as (
    select
        *,
        case
            when rule_code = 'down'
                then expected_bad - bad_count >= min_excess_count
                    and bad_count <= expected_bad * (1 - min_relative_change)
            -- a lasting step: each month may move less, the months add up
            when rule_code = 'persist'
                then bad_count - expected_bad >= min_excess_count / 2.0
                    and bad_count >= expected_bad * (1 + min_relative_change / 2)
            else bad_count - expected_bad >= min_excess_count
                and bad_count >= expected_bad * (1 + min_relative_change)
        end as is_material,
        rule_code <> 'down' as is_worsening
    from expected_counts
)

select * from final
