-- Group-rental leads: factor contributions (seed group_rental_factors), rule flags,
-- score, rank, reasons, and the status that follows from field checks.
with

features as (
    select * from {{ ref('int_dwelling_features') }}
),

anomaly as (
    select * from {{ ref('int_dwelling_anomaly') }}
),

factors as (
    select * from {{ ref('group_rental_factors') }}
),

checks as (
    select * from {{ ref('fct_rental_checks') }}
    where house_id is not null
),

long_values as (
    select house_id, 'occupants_per_room' as factor_code, occupants_per_room as value
    from features
    union all
    select house_id, 'area_per_person_m2', area_per_person_m2 from features
    union all
    select house_id, 'floating_registrations_90d', cast(floating_registrations_90d as double)
    from features
    union all
    select house_id, 'floating_turnover_90d', cast(floating_turnover_90d as double)
    from features
    union all
    select house_id, 'registration_gap', cast(registration_gap as double) from features
    union all
    select house_id, 'group_rental_complaints_180d', cast(group_rental_complaints_180d as double)
    from features
    union all
    select house_id, 'grid_rental_events_180d', cast(grid_rental_events_180d as double)
    from features
    union all
    select house_id, 'noise_complaints_180d', cast(noise_complaints_180d as double) from features
    union all
    select house_id, 'police_incidents_180d', cast(police_incidents_180d as double) from features
    union all
    select house_id, 'open_hazards', cast(open_hazards as double) from features
    union all
    select f.house_id, 'anomaly', coalesce(a.anomaly_z, 0)
    from features as f
    left join anomaly as a on f.house_id = a.house_id
),

contributions as (
    select
        v.house_id,
        v.factor_code,
        fa.factor_name,
        fa.is_rule,
        fa.threshold,
        fa.weight,
        v.value,
        fa.weight * least(greatest(
            case
                when v.value is null then 0
                when fa.comparison = 'above' then (v.value - fa.threshold) / fa.scale
                else (fa.threshold - v.value) / fa.scale
            end, 0), 1) as contribution,
        coalesce(
            case
                when fa.comparison = 'above' then v.value > fa.threshold
                else v.value < fa.threshold
            end,
            false
        ) as crosses_threshold,
        replace(
            replace(
                fa.reason_template,
                '{value}',
                case
                    when v.value = round(v.value) then cast(cast(round(v.value) as bigint) as varchar)
                    else cast(round(v.value, 1) as varchar)
                end
            ),
            '{threshold}',
            case
                when fa.threshold = round(fa.threshold)
                    then cast(cast(round(fa.threshold) as bigint) as varchar)
                else cast(fa.threshold as varchar)
            end
        ) as reason
    from long_values as v
    inner join factors as fa
        on v.factor_code = fa.factor_code
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

scores as (
    select
        house_id,
        least(100.0, sum(contribution)) as score,
        max(case when factor_code = 'anomaly' then contribution / nullif(weight, 0) end)
            as anomaly_score,
        max(case when factor_code = 'occupants_per_room' and is_rule and crosses_threshold
            then 1 else 0 end) = 1 as flag_overcrowded_rooms,
        max(case when factor_code = 'area_per_person_m2' and is_rule and crosses_threshold
            then 1 else 0 end) = 1 as flag_small_area_per_person,
        max(case when factor_code = 'floating_registrations_90d' and is_rule and crosses_threshold
            then 1 else 0 end) = 1 as flag_high_turnover,
        max(case when factor_code = 'group_rental_complaints_180d' and is_rule and crosses_threshold
            then 1 else 0 end) = 1 as flag_group_rental_complaint,
        max(case when factor_code = 'open_hazards' and is_rule and crosses_threshold
            then 1 else 0 end) = 1 as flag_open_hazard
    from contributions
    group by house_id
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
        a.anomaly_z,
        s.score,
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
    inner join scores as s on f.house_id = s.house_id
    left join anomaly as a on f.house_id = a.house_id
    left join reasons as r on f.house_id = r.house_id
    left join latest_checks as c on f.house_id = c.house_id
),

final as (
    select
        {{ dbt.concat(["'QZ'", "upper(substr(" ~ dbt.hash('house_id') ~ ", 1, 10))"]) }}
            as lead_id,
        house_id,
        address,
        district,
        street,
        {{ region_key('district', 'street') }} as region_key,
        lon,
        lat,
        as_of_date,
        floor_area_m2,
        rooms,
        registered_tenants,
        active_floating_registrations,
        occupants_estimate,
        occupants_per_room as tenants_per_room,
        area_per_person_m2,
        floating_registrations_90d,
        floating_turnover_90d,
        complaints_180d,
        group_rental_complaints_180d,
        noise_complaints_180d,
        grid_rental_events_180d,
        police_incidents_180d,
        open_hazards,
        flag_overcrowded_rooms,
        flag_small_area_per_person,
        flag_high_turnover,
        flag_group_rental_complaint,
        flag_open_hazard,
        rtrim(nullif(
            {{ dbt.concat([
                "case when flag_overcrowded_rooms then '每间超员、' else '' end",
                "case when flag_small_area_per_person then '人均面积不足、' else '' end",
                "case when flag_high_turnover then '流动人口登记多、' else '' end",
                "case when flag_group_rental_complaint then '群租投诉、' else '' end",
                "case when flag_open_hazard then '隐患未整改、' else '' end"
            ]) }},
            ''
        ), '、') as rule_flags,
        anomaly_score,
        round(score, 1) as score,
        case
            when status <> '暂缓' then row_number() over (
                partition by case when status = '暂缓' then 1 else 0 end
                order by score desc, house_id
            )
        end as rank,
        coalesce(reasons, '') as reasons,
        status,
        last_check_at,
        last_verdict
    from statused
)

select * from final
