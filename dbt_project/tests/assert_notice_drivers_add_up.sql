-- The categories behind a notified per-10k indicator add up to the count the indicator
-- rests on (mart_safety_index_components.base_count): mart_notice_drivers repeats the
-- record filters of int_safety_indicator_values, and this fails if they drift apart.
with

drivers as (
    select * from {{ ref('mart_notice_drivers') }}
    where driver_kind = '类别'
),

items as (
    select * from {{ ref('mart_notice_items') }}
    where indicator_code in (
        'criminal_cases_per_10k', 'public_order_cases_per_10k', 'incidents_110_per_10k',
        'security_complaints_per_10k', 'grid_disputes_per_10k'
    )
),

components as (
    select * from {{ ref('mart_safety_index_components') }}
),

totals as (
    select
        alert_id,
        sum(driver_count) as driver_total
    from drivers
    group by 1
)

select
    i.alert_id,
    c.base_count,
    coalesce(t.driver_total, 0) as driver_total
from items as i
inner join components as c
    on i.region_key = c.region_key
    and i.indicator_code = c.indicator_code
    and i.month_start = c.month_start
left join totals as t
    on i.alert_id = t.alert_id
where coalesce(t.driver_total, 0) <> c.base_count
