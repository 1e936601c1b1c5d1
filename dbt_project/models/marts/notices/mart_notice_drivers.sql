-- What drove each notified indicator: the records behind it that month, counted by
-- category and by place (the streets of a district; for a street, its roads and house
-- numbers: a compound, never a household's room or a person), ranked, the top
-- var notice_top_drivers of each listed, with the same count the month before.
-- The record filters are those of int_safety_indicator_values (record_events); the
-- data test assert_notice_drivers_add_up checks the category counts still add up to
-- the indicator's base count, so the two cannot drift apart silently.
with

items as (
    select * from {{ ref('mart_notice_items') }}
),

cases as (
    select * from {{ ref('fct_police_cases') }}
),

incidents as (
    select * from {{ ref('fct_police_incidents') }}
),

tickets as (
    select * from {{ ref('fct_hotline_tickets') }}
),

events as (
    select * from {{ ref('fct_grid_events') }}
),

hazards as (
    select * from {{ ref('fct_rental_hazards') }}
),

records as (
    select 'criminal_cases_per_10k' as indicator_code, district, street, case_month as month_start,
        coalesce(nullif(cause, ''), '未分类') as category, address_norm
    from cases
    where case_class = '刑事案件'

    union all

    select 'public_order_cases_per_10k', district, street, case_month,
        coalesce(nullif(cause, ''), '未分类'), address_norm
    from cases
    where case_class = '治安案件'

    union all

    select 'incidents_110_per_10k', district, street, reported_month,
        coalesce(nullif(category, ''), '未分类'), address_norm
    from incidents

    union all

    select 'security_complaints_per_10k', district, street, received_month,
        coalesce(nullif(category_l2, ''), nullif(category_l1, ''), '未分类'), address_norm
    from tickets
    where is_security_complaint
        and coalesce(request_type, '投诉') in ('投诉', '举报')
        and not is_cancelled

    union all

    select 'grid_disputes_per_10k', district, street, reported_month,
        coalesce(nullif(subcategory, ''), '未分类'), address_norm
    from events
    where category = '矛盾纠纷'
        and not is_returned

    union all

    -- the rectification rate falls with the hazards due and not fixed
    select 'hazard_rectification_rate', district, street, due_month,
        coalesce(nullif(hazard_type, ''), '未分类'), cast(null as varchar)
    from hazards
    where not is_fixed
),

placed as (
    select
        *,
        -- road and house number only (`工农路88号`), without the district and street
        nullif(replace(replace(
            {{ regex_extract('address_norm', '^(.*?[0-9]+号)') }}, coalesce(district, ''), ''
        ), coalesce(street, ''), ''), '') as place
    from records
    where district is not null
),

by_unit as (
    -- each notified unit-month-indicator and the month before, with its records
    select
        i.notice_id,
        i.alert_id,
        i.indicator_code,
        i.region_level,
        p.month_start = i.month_start as is_current,
        p.category,
        case when i.region_level = 'district' then p.street else p.place end as place
    from items as i
    inner join placed as p
        on i.indicator_code = p.indicator_code
        and i.district = p.district
        and (i.region_level = 'district' or i.region_name = p.street)
        and p.month_start in (
            i.month_start, cast({{ dbt.dateadd('month', '-1', 'i.month_start') }} as date)
        )
),

counted as (
    select
        notice_id,
        alert_id,
        indicator_code,
        '类别' as driver_kind,
        category as driver_label,
        cast(sum(case when is_current then 1 else 0 end) as integer) as driver_count,
        cast(sum(case when is_current then 0 else 1 end) as integer) as previous_count
    from by_unit
    group by 1, 2, 3, 4, 5

    union all

    select
        notice_id,
        alert_id,
        indicator_code,
        case when region_level = 'district' then '街道(镇)' else '地点' end,
        place,
        cast(sum(case when is_current then 1 else 0 end) as integer),
        cast(sum(case when is_current then 0 else 1 end) as integer)
    from by_unit
    where place is not null
    group by 1, 2, 3, 4, 5
),

ranked as (
    select
        *,
        row_number() over (
            partition by alert_id, driver_kind
            order by driver_count desc, driver_count - previous_count desc, driver_label
        ) as driver_rank
    from counted
    where driver_count > 0
),

final as (
    select
        {{ dbt.concat(["alert_id", "'|'", "driver_kind", "'|'", "cast(driver_rank as varchar)"]) }}
            as driver_id,
        notice_id,
        alert_id,
        indicator_code,
        driver_kind,
        driver_rank,
        driver_label,
        driver_count,
        previous_count,
        -- what a notice lists; the rest is kept so the counts add up to the indicator
        driver_rank <= {{ var('notice_top_drivers') }} as is_listed
    from ranked
)

select * from final
