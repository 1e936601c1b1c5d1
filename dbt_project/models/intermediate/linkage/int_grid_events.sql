-- Each record of grid events with its linked dwelling and region, the
-- intermediate models' view of fct_grid_events (which publishes it). A view: the fact is its copy.
{{ config(materialized='view') }}

with

events as (
    select * from {{ ref('stg_grid__events') }}
),

links as (
    select * from {{ ref('int_address_links') }}
    where entity = 'grid_events'
),

final as (
    select
        -- ids
        e.event_id,
        e.grid_code,
        e.reporter_id,
        -- dates
        e.reported_at,
        {{ month_start('e.reported_at') }} as reported_month,
        -- event
        e.origin,
        e.category,
        e.subcategory,
        e.urgency,
        e.handling_level,
        e.department,
        -- handling
        e.status,
        coalesce(e.status in ('已办结', '已归档'), false) as is_closed,
        coalesce(e.status = '已退回', false) as is_returned,
        e.due_at,
        {{ month_start('coalesce(e.due_at, e.reported_at)') }} as due_month,
        e.closed_at,
        coalesce(
            e.status in ('已办结', '已归档') and e.closed_at is not null and e.due_at is not null
            and e.closed_at <= e.due_at,
            false
        ) as is_closed_on_time,
        case
            when e.status in ('已办结', '已归档') and e.closed_at is not null
                and e.reported_at is not null
                then {{ hours_between('e.reported_at', 'e.closed_at') }}
        end as hours_to_close,
        e.hotline_ticket_id,
        -- place
        e.address,
        e.address_norm,
        l.district,
        l.street,
        l.community,
        {{ region_key('l.district', 'l.street') }} as region_key,
        l.house_id,
        coalesce(l.link_method, 'none') as link_method,
        l.link_score,
        e.updated_at
    from events as e
    left join links as l
        on e.event_id = l.record_id
)

select * from final
