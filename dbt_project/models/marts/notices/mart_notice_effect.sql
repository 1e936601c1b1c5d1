-- Did the notice work? For each notice and each indicator that triggered it: whether
-- the indicator came back within its expected range one and two months later.
-- "Within its expected range" is the alert rule's own judgement (mart_alerts): the unit
-- observed the indicator that month and it raised no worsening alert. Null while the
-- month is not observed yet (pending), so rates only count what can be judged.
with

items as (
    select * from {{ ref('mart_notice_items') }}
),

alerts as (
    select * from {{ ref('mart_alerts') }}
    where is_worsening
),

components as (
    select * from {{ ref('mart_safety_index_components') }}
    where value_status = 'observed'
),

horizons as (
    select
        i.*,
        h.months_later,
        cast({{ dbt.dateadd('month', 'h.months_later', 'i.month_start') }} as date)
            as later_month_start
    from items as i
    cross join (select 1 as months_later union all select 2) as h
),

judged as (
    select
        h.notice_id,
        h.alert_id,
        h.months_later,
        c.raw_value as later_value,
        case
            when c.region_key is null then null
            else a.alert_id is null
        end as is_back_in_range
    from horizons as h
    left join components as c
        on h.region_key = c.region_key
        and h.indicator_code = c.indicator_code
        and h.later_month_start = c.month_start
    left join alerts as a
        on h.region_key = a.region_key
        and h.indicator_code = a.indicator_code
        and h.later_month_start = a.month_start
),

final as (
    select
        i.alert_id,
        i.notice_id,
        i.month_start,
        i.month,
        i.region_level,
        i.region_key,
        i.region_name,
        i.district,
        i.indicator_code,
        i.indicator_name,
        i.unit,
        i.value,
        i.expected_high,
        i.expected_low,
        j1.later_value as value_1m,
        j1.is_back_in_range as is_back_in_range_1m,
        j2.later_value as value_2m,
        j2.is_back_in_range as is_back_in_range_2m
    from items as i
    left join judged as j1
        on i.alert_id = j1.alert_id
        and j1.months_later = 1
    left join judged as j2
        on i.alert_id = j2.alert_id
        and j2.months_later = 2
)

select * from final
