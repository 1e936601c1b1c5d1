-- Precision@k of the leads: against field checks by month, the time-split backtest of
-- the lead model (train on verdicts before month M, evaluate on verdicts from M on; the
-- learned model beside the prior alone and beside the learned model with exploration),
-- and against the planted truth of the synthetic sample (no rows when it is absent).
with

scores as (
    select * from {{ ref('mart_group_rental_scores') }}
),

checks as (
    select * from {{ ref('fct_rental_checks') }}
    where house_id is not null
),

truth as (
    select * from {{ ref('stg_truth__group_rentals') }}
),

current_model as (
    select * from {{ source('leads', 'group_rental_models') }}
    where is_current
),

backtest as (
    select b.*
    from {{ source('leads', 'group_rental_backtest') }} as b
    inner join current_model as m on b.model_version = m.model_version
),

ks as (
    {% for k in var('group_rental_eval_ks') %}
    select {{ k }} as k, 'k={{ k }}' as k_label
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

-- ranking over every dwelling by score, held back or not: the ranking being judged
ranking as (
    select
        house_id,
        row_number() over (order by score_logit desc, house_id) as score_rank
    from scores
),

-- field checks ---------------------------------------------------------------------
conclusive_checks as (
    select
        checked_month as month_start,
        house_id,
        max(case when is_confirmed_group_rental then 1 else 0 end) as confirmed
    from checks
    where verdict in ('确认群租', '确认出租', '非出租')
    group by 1, 2
),

field_at_k as (
    select
        'field_checks' as source,
        c.month_start,
        ks.k,
        ks.k_label,
        'all' as segment,
        sum(case when r.score_rank <= ks.k then 1 else 0 end) as items_evaluated,
        sum(case when r.score_rank <= ks.k and c.confirmed = 1 then 1 else 0 end) as hits,
        sum(c.confirmed) as positives_total
    from conclusive_checks as c
    inner join ranking as r
        on c.house_id = r.house_id
    cross join ks
    group by 1, 2, 3, 4, 5
),

field_hit_rate as (
    -- the hit rate of the checks that followed a lead the warehouse issued
    select
        'field_checks' as source,
        checked_month as month_start,
        cast(null as integer) as k,
        'lead_checks' as k_label,
        'field_hit_rate' as segment,
        sum(case when verdict in ('确认群租', '确认出租', '非出租') then 1 else 0 end)
            as items_evaluated,
        sum(case when is_confirmed_group_rental then 1 else 0 end) as hits,
        sum(case when is_confirmed_group_rental then 1 else 0 end) as positives_total
    from checks
    where lead_id is not null
    group by 1, 2, 3, 4, 5
),

-- backtest of the lead model: leads issued in month M by a model trained on the
-- verdicts before M; checked / confirmed by the verdicts from M on ---------------------
backtest_rows as (
    select
        'backtest' as source,
        month_start,
        leads_issued as k,
        'dispatch' as k_label,
        model as segment,
        checked as items_evaluated,
        confirmed as hits,
        evaluated_positives as positives_total,
        leads_issued,
        exploration_leads,
        exploration_confirmed,
        train_verdicts,
        ranked_precision
    from backtest
),

-- planted truth ----------------------------------------------------------------------
planted as (
    select count(*) as n_planted from truth where label = 'group_rental'
),

truth_ks as (
    select k, k_label from ks
    union all
    select n_planted as k, 'k=planted' as k_label from planted where n_planted > 0
),

truth_ranked as (
    select
        r.house_id,
        r.score_rank,
        t.label,
        t.kind
    from ranking as r
    left join truth as t
        on r.house_id = t.house_id
),

truth_all as (
    select
        'planted_truth' as source,
        cast(null as date) as month_start,
        ks.k,
        ks.k_label,
        'all' as segment,
        sum(case when tr.score_rank <= ks.k then 1 else 0 end) as items_evaluated,
        sum(case when tr.score_rank <= ks.k and tr.label = 'group_rental' then 1 else 0 end)
            as hits,
        sum(case when tr.label = 'group_rental' then 1 else 0 end) as positives_total
    from truth_ranked as tr
    cross join truth_ks as ks
    cross join planted as p
    where p.n_planted > 0
    group by 1, 2, 3, 4, 5
),

truth_by_kind as (
    -- per kind (group-rental kinds and confounder kinds): how many land in the top k
    select
        'planted_truth' as source,
        cast(null as date) as month_start,
        ks.k,
        ks.k_label,
        {{ dbt.concat(["tr.label", "':'", "tr.kind"]) }} as segment,
        ks.k as items_evaluated,
        sum(case when tr.score_rank <= ks.k then 1 else 0 end) as hits,
        count(*) as positives_total
    from truth_ranked as tr
    cross join truth_ks as ks
    where tr.label is not null
        and tr.kind is not null
    group by 1, 2, 3, 4, 5, 6
),

{% set no_backtest -%}
        cast(null as integer) as leads_issued,
        cast(null as integer) as exploration_leads,
        cast(null as integer) as exploration_confirmed,
        cast(null as integer) as train_verdicts,
        cast(null as double) as ranked_precision
{%- endset %}

unioned as (
    select *, {{ no_backtest }} from field_at_k
    union all
    select *, {{ no_backtest }} from field_hit_rate
    union all
    select *, {{ no_backtest }} from truth_all
    union all
    select *, {{ no_backtest }} from truth_by_kind
    union all
    select * from backtest_rows
),

final as (
    select
        {{ dbt.concat([
            "source", "'|'", "coalesce(" ~ month_text('month_start') ~ ", '-')",
            "'|'", "k_label", "'|'", "segment"
        ]) }} as evaluation_id,
        source,
        month_start,
        {{ month_text('month_start') }} as month,
        k,
        k_label,
        segment,
        items_evaluated,
        hits,
        positives_total,
        {{ safe_divide('hits', 'items_evaluated') }} as precision_at_k,
        {{ safe_divide('hits', 'positives_total') }} as recall_at_k,
        leads_issued,
        exploration_leads,
        exploration_confirmed,
        train_verdicts,
        ranked_precision
    from unioned
)

select * from final
