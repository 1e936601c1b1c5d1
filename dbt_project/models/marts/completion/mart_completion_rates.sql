-- Completion statistics per deadline month x region x stream x breakdown.
-- Definitions (which statuses count as closed, the denominator) are in the model docs.
with

tickets as (
    select * from {{ ref('fct_hotline_tickets') }}
),

events as (
    select * from {{ ref('fct_grid_events') }}
),

hazards as (
    select * from {{ ref('fct_rental_hazards') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

months as (
    select * from {{ ref('dim_month') }}
),

items as (
    select
        'hotline' as stream,
        due_month as month_start,
        district,
        street,
        department,
        category_l1 as category,
        is_closed,
        is_closed_on_time,
        is_rated,
        is_satisfied,
        is_repeat,
        hours_to_close
    from tickets
    where not is_cancelled
        and due_month is not null

    union all

    select
        'grid' as stream,
        due_month as month_start,
        district,
        street,
        department,
        category,
        is_closed,
        is_closed_on_time,
        false as is_rated,
        false as is_satisfied,
        false as is_repeat,
        hours_to_close
    from events
    where not is_returned
        and due_month is not null

    union all

    select
        'rental_hazard' as stream,
        due_month as month_start,
        district,
        street,
        cast(null as varchar) as department,
        hazard_type as category,
        is_fixed as is_closed,
        is_fixed_on_time as is_closed_on_time,
        false as is_rated,
        false as is_satisfied,
        false as is_repeat,
        hours_to_fix as hours_to_close
    from hazards
    where due_month is not null
),

levels as (
    select 'city' as region_level
    union all select 'district'
    union all select 'street'
),

breakdowns as (
    select 'all' as breakdown
    union all select 'department'
    union all select 'category'
),

expanded as (
    select
        i.*,
        lv.region_level,
        case lv.region_level
            when 'city' then '全市'
            when 'district' then i.district
            else {{ region_key('i.district', 'i.street') }}
        end as region_key,
        case when lv.region_level <> 'city' then i.district end as region_district,
        case when lv.region_level = 'street' then i.street end as region_street,
        b.breakdown,
        case b.breakdown
            when 'all' then '全部'
            when 'department' then coalesce(nullif(trim(i.department), ''), '未知')
            else coalesce(nullif(trim(i.category), ''), '未知')
        end as breakdown_value
    from items as i
    cross join levels as lv
    cross join breakdowns as b
    where (
            lv.region_level = 'city'
            or (lv.region_level = 'district' and i.district is not null)
            or (lv.region_level = 'street' and i.district is not null and i.street is not null)
        )
        and not (i.stream = 'rental_hazard' and b.breakdown = 'department')
),

aggregated as (
    select
        month_start,
        region_level,
        region_key,
        region_district,
        region_street,
        stream,
        breakdown,
        breakdown_value,
        count(*) as items_due,
        sum(case when is_closed then 1 else 0 end) as items_closed,
        sum(case when is_closed_on_time then 1 else 0 end) as items_closed_on_time,
        sum(case when is_closed and is_rated then 1 else 0 end) as items_rated,
        sum(case when is_closed and is_rated and is_satisfied then 1 else 0 end)
            as items_satisfied,
        sum(case when is_repeat then 1 else 0 end) as items_repeat,
        {{ median('hours_to_close') }} as median_hours_to_close
    from expanded
    group by 1, 2, 3, 4, 5, 6, 7, 8
),

final as (
    select
        a.month_start,
        {{ month_text('a.month_start') }} as month,
        a.region_level,
        a.region_key,
        coalesce(r.region_name, a.region_street, a.region_district, '全市') as region_name,
        a.region_district as district,
        a.region_street as street,
        a.stream,
        a.breakdown,
        a.breakdown_value,
        a.items_due,
        a.items_closed,
        a.items_closed_on_time,
        a.items_rated,
        a.items_satisfied,
        a.items_repeat,
        {{ safe_divide('a.items_closed', 'a.items_due') }} as completion_rate,
        {{ safe_divide('a.items_closed_on_time', 'a.items_due') }} as on_time_rate,
        case
            when a.stream = 'hotline'
                then {{ safe_divide('a.items_satisfied', 'a.items_rated') }}
        end as satisfaction_rate,
        case
            when a.stream = 'hotline'
                then {{ safe_divide('a.items_repeat', 'a.items_due') }}
        end as repeat_rate,
        a.median_hours_to_close
    from aggregated as a
    -- deadlines after the last month of data are not due yet
    inner join months as m
        on a.month_start = m.month_start
    left join regions as r
        on a.region_key = r.region_key
)

select * from final
