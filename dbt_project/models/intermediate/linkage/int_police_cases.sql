-- Each record of police cases with its linked dwelling and region, the
-- intermediate models' view of fct_police_cases (which publishes it). A view: the fact is its copy.
{{ config(materialized='view') }}

with

cases as (
    select * from {{ ref('stg_police__cases') }}
),

links as (
    select * from {{ ref('int_address_links') }}
    where entity = 'police_cases'
),

final as (
    select
        -- ids
        c.case_id,
        -- case
        c.case_class,
        c.cause,
        -- dates
        c.occurred_at,
        c.filed_at,
        {{ month_start('coalesce(c.filed_at, c.occurred_at)') }} as case_month,
        -- status
        c.status,
        coalesce(c.status in ('已破案', '已结案'), false) as is_solved,
        c.solved_at,
        c.station,
        -- place
        c.address,
        c.address_norm,
        l.district,
        l.street,
        {{ region_key('l.district', 'l.street') }} as region_key,
        l.house_id,
        coalesce(l.link_method, 'none') as link_method,
        l.link_score,
        c.updated_at
    from cases as c
    left join links as l
        on c.case_id = l.record_id
)

select * from final
