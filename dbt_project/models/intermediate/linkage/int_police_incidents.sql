-- Each record of police incidents with its linked dwelling and region, the
-- intermediate models' view of fct_police_incidents (which publishes it). A view: the fact is its copy.
{{ config(materialized='view') }}

with

incidents as (
    select * from {{ ref('stg_police__incidents') }}
),

links as (
    select * from {{ ref('int_address_links') }}
    where entity = 'police_incidents'
),

final as (
    select
        -- ids
        i.incident_id,
        -- dates
        i.reported_at,
        {{ month_start('i.reported_at') }} as reported_month,
        -- incident
        i.report_channel,
        i.category,
        i.subcategory,
        i.station,
        i.outcome,
        coalesce(i.case_opened, false) as case_opened,
        -- place
        i.address,
        i.address_norm,
        l.district,
        l.street,
        {{ region_key('l.district', 'l.street') }} as region_key,
        l.house_id,
        coalesce(l.link_method, 'none') as link_method,
        l.link_score
    from incidents as i
    left join links as l
        on i.incident_id = l.record_id
)

select * from final
