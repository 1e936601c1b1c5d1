-- Group-rental leads, scored in plain SQL from the current fitted model
-- (source leads: coefficients, calibration, covariance): the learned score and its
-- calibrated probability, the prior's factor score beside it, the reasons (largest
-- contributions under the fitted model), rule flags, status after field checks, and
-- this month's dispatch list with its exploration leads (探索性线索).
with

features as (
    select * from {{ ref('int_dwelling_features') }}
),

checks as (
    select * from {{ ref('fct_rental_checks') }}
    where house_id is not null
),

current_model as (
    select * from {{ source('leads', 'group_rental_models') }}
    where is_current
),

covariance as (
    select c.*
    from {{ source('leads', 'group_rental_model_covariance') }} as c
    inner join current_model as m on c.model_version = m.model_version
),

contributions as (
    select * from {{ ref('mart_group_rental_contributions') }}
),

ranked_reasons as (
    select
        *,
        row_number() over (
            partition by house_id
            order by contribution desc, factor_code
        ) as reason_rank
    from contributions
    where contribution > 0
),

reasons as (
    select
        house_id,
        {{ dbt.listagg('reason', "'；'", 'order by reason_rank') }} as reasons
    from ranked_reasons
    where reason_rank <= 3
    group by house_id
),

-- se^2 = z' S z with z = [1, standardised terms] and S the model's covariance
z_long as (
    select house_id, '(intercept)' as term, 1.0 as z_value from features
    union all
    select house_id, factor_code, coalesce(z_value, 0) from contributions
),

variance as (
    select
        a.house_id,
        sum(a.z_value * b.z_value * c.covariance) as logit_variance
    from z_long as a
    inner join z_long as b on a.house_id = b.house_id
    inner join covariance as c on a.term = c.term_i and b.term = c.term_j
    group by a.house_id
),

sums as (
    select
        c.house_id,
        sum(c.prior_contribution) as prior_score,
        max(m.intercept) + sum(c.contribution) as logit,
        max(case when c.factor_code = 'anomaly' then c.intensity end) as anomaly_score,
        max(case when c.factor_code = 'occupants_per_room' and c.is_rule and c.crosses_threshold
            then 1 else 0 end) = 1 as flag_overcrowded_rooms,
        max(case when c.factor_code = 'area_per_person_m2' and c.is_rule and c.crosses_threshold
            then 1 else 0 end) = 1 as flag_small_area_per_person,
        max(case when c.factor_code = 'floating_deregistrations_365d' and c.is_rule
            and c.crosses_threshold then 1 else 0 end) = 1 as flag_high_turnover,
        max(case when c.factor_code = 'group_rental_complaints_365d' and c.is_rule
            and c.crosses_threshold then 1 else 0 end) = 1 as flag_group_rental_complaint,
        max(case when c.factor_code = 'open_hazards' and c.is_rule and c.crosses_threshold
            then 1 else 0 end) = 1 as flag_open_hazard
    from contributions as c
    cross join current_model as m
    group by c.house_id
),

latest_checks as (
    select
        house_id,
        checked_at as last_check_at,
        verdict as last_verdict,
        is_negative,
        is_confirmed_group_rental
    from (
        select
            *,
            row_number() over (
                partition by house_id
                order by checked_at desc nulls last, check_id desc
            ) as recency
        from checks
    ) as ordered
    where recency = 1
),

statused as (
    select
        f.*,
        s.prior_score,
        s.logit,
        sqrt(greatest(coalesce(v.logit_variance, 0), 0)) as logit_se,
        m.calibration_intercept,
        m.calibration_slope,
        m.monthly_capacity,
        m.exploration_share,
        m.exploration_z,
        m.model_version,
        m.model_kind,
        coalesce(s.anomaly_score, 0) as anomaly_score,
        s.flag_overcrowded_rooms,
        s.flag_small_area_per_person,
        s.flag_high_turnover,
        s.flag_group_rental_complaint,
        s.flag_open_hazard,
        r.reasons,
        c.last_check_at,
        c.last_verdict,
        case
            when c.is_confirmed_group_rental then '已确认群租'
            when c.is_negative
                and cast(c.last_check_at as date) > cast(
                    {{ dbt.dateadd('day', -var('group_rental_holdback_days'), 'f.as_of_date') }}
                    as date)
                then '暂缓'
            else '待核查'
        end as status
    from features as f
    inner join sums as s on f.house_id = s.house_id
    cross join current_model as m
    left join variance as v on f.house_id = v.house_id
    left join reasons as r on f.house_id = r.house_id
    left join latest_checks as c on f.house_id = c.house_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by case when status = '待核查' then 0 else 1 end
            order by logit desc, house_id
        ) as pending_rank,
        cast(round(monthly_capacity * exploration_share) as integer) as exploration_slots
    from statused
),

-- the dispatch list: the first capacity - slots open leads by score, then the slots go
-- to the open leads the model is least sure about (highest logit + z x se)
exploration as (
    select
        house_id,
        row_number() over (
            order by logit + exploration_z * logit_se desc, house_id
        ) as exploration_rank
    from ranked
    where status = '待核查'
        and pending_rank > monthly_capacity - exploration_slots
),

final as (
    select
        {{ dbt.concat(["'QZ'", "upper(substr(" ~ dbt.hash('r.house_id') ~ ", 1, 10))"]) }}
            as lead_id,
        r.house_id,
        r.address,
        r.district,
        r.street,
        {{ region_key('r.district', 'r.street') }} as region_key,
        r.lon,
        r.lat,
        r.as_of_date,
        r.floor_area_m2,
        r.rooms,
        r.registered_tenants,
        r.active_floating_registrations,
        r.occupants_estimate,
        r.occupants_per_room as tenants_per_room,
        r.area_per_person_m2,
        r.occupants_per_10m2,
        r.floating_registrations_90d,
        r.floating_turnover_90d,
        r.floating_registrations_365d,
        r.floating_deregistrations_365d,
        r.complaints_180d,
        r.group_rental_complaints_180d,
        r.noise_complaints_180d,
        r.grid_rental_events_180d,
        r.police_incidents_180d,
        r.group_rental_complaints_365d,
        r.noise_complaints_365d,
        r.fire_safety_complaints_365d,
        r.unrelated_complaints_365d,
        r.grid_rental_events_365d,
        r.police_incidents_365d,
        r.hazards_found,
        r.open_hazards,
        r.corroborating_sources,
        r.flag_overcrowded_rooms,
        r.flag_small_area_per_person,
        r.flag_high_turnover,
        r.flag_group_rental_complaint,
        r.flag_open_hazard,
        rtrim(nullif(
            {{ dbt.concat([
                "case when r.flag_overcrowded_rooms then '每间超员、' else '' end",
                "case when r.flag_small_area_per_person then '人均面积不足、' else '' end",
                "case when r.flag_high_turnover then '流动人口注销频繁、' else '' end",
                "case when r.flag_group_rental_complaint then '群租投诉、' else '' end",
                "case when r.flag_open_hazard then '隐患未整改、' else '' end"
            ]) }},
            ''
        ), '、') as rule_flags,
        r.anomaly_score,
        -- the learned model's score 0..100 (its uncalibrated probability x 100)
        round(100.0 / (1 + exp(-least(greatest(r.logit, -50), 50))), 3) as score,
        round(r.prior_score, 1) as prior_score,
        -- 预计核实为群租的概率: Platt-calibrated on held-out verdicts
        1.0 / (1 + exp(-least(greatest(
            r.calibration_intercept + r.calibration_slope * r.logit, -50), 50)))
            as probability,
        r.logit as score_logit,
        r.logit_se,
        case
            when r.status <> '暂缓' then row_number() over (
                partition by case when r.status = '暂缓' then 1 else 0 end
                order by r.logit desc, r.house_id
            )
        end as rank,
        case
            when r.status = '待核查' and r.pending_rank <= r.monthly_capacity - r.exploration_slots
                then '重点线索'
            when e.exploration_rank <= r.exploration_slots then '探索性线索'
        end as dispatch_type,
        coalesce(e.exploration_rank <= r.exploration_slots, false) as is_exploration,
        case
            when coalesce(e.exploration_rank <= r.exploration_slots, false)
                then {{ dbt.concat([
                    "'探索性线索：模型对此户把握最小，核查结论用于改进模型'",
                    "case when r.reasons is null then '' else '；' end",
                    "coalesce(r.reasons, '')"
                ]) }}
            else coalesce(r.reasons, '')
        end as reasons,
        r.status,
        r.last_check_at,
        r.last_verdict,
        r.model_version,
        r.model_kind
    from ranked as r
    left join exploration as e on r.house_id = e.house_id
)

select * from final
