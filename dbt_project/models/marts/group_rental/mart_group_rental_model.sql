-- The current group-rental lead model, one row per factor: the learned coefficient
-- beside the prior's, and the model's header (version, verdicts used, calibration,
-- backtest figures, and what this month's exploration costs in expected confirmations).
with

current_model as (
    select * from {{ source('leads', 'group_rental_models') }}
    where is_current
),

model_terms as (
    select t.*
    from {{ source('leads', 'group_rental_model_terms') }} as t
    inner join current_model as m on t.model_version = m.model_version
),

factors as (
    select * from {{ ref('group_rental_factors') }}
),

scores as (
    select * from {{ ref('mart_group_rental_scores') }}
),

-- exploration's price: the expected confirmations of the exploited leads it displaces
-- (the next open leads by score) minus those of the exploration leads themselves
open_leads as (
    select
        probability,
        is_exploration,
        row_number() over (order by score_logit desc, house_id) as open_rank
    from scores
    where status = '待核查'
),

exploration_cost as (
    select
        sum(case
            when o.open_rank > m.monthly_capacity - round(m.monthly_capacity * m.exploration_share)
                and o.open_rank <= m.monthly_capacity
                then o.probability else 0
        end) as displaced_expected,
        sum(case when o.is_exploration then o.probability else 0 end) as exploration_expected
    from open_leads as o
    cross join current_model as m
),

final as (
    select
        {{ dbt.concat(["m.model_version", "'|'", "t.factor_code"]) }} as model_term_id,
        m.model_version,
        m.trained_at,
        m.model_kind,
        m.prior_only_reason,
        m.verdicts_used,
        m.positives,
        m.negatives,
        m.occupancy_signals,
        m.calibration_method,
        m.backtest_months,
        m.backtest_precision_learned,
        m.backtest_precision_prior,
        m.backtest_hit_rate_learned,
        m.backtest_hit_rate_prior,
        m.backtest_hit_rate_with_exploration,
        m.backtest_precision_exploit_only,
        -- what exploration taught: backtest precision with the verdicts beyond the
        -- score's reach minus without them
        m.backtest_precision_learned - m.backtest_precision_exploit_only
            as exploration_precision_gain,
        m.monthly_capacity,
        m.exploration_share,
        e.displaced_expected - e.exploration_expected as exploration_cost_expected_hits,
        t.factor_code,
        f.factor_name,
        t.coefficient,
        t.prior_coefficient,
        t.standardised_coefficient,
        t.feature_mean,
        t.feature_std
    from model_terms as t
    cross join current_model as m
    cross join exploration_cost as e
    left join factors as f on t.factor_code = f.factor_code
)

select * from final
