-- Each record of rental checks with its linked dwelling and region, the
-- intermediate models' view of fct_rental_checks (which publishes it). A view: the fact is its copy.
{{ config(materialized='view') }}

with

checks as (
    select * from {{ ref('stg_police__rental_checks') }}
),

links as (
    select * from {{ ref('int_address_links') }}
    where entity = 'police_rental_checks'
),

final as (
    select
        -- ids
        c.check_id,
        nullif(trim(c.lead_id), '') as lead_id,
        coalesce(l.house_id, c.house_id) as house_id,
        -- visit
        c.checked_at,
        {{ month_start('c.checked_at') }} as checked_month,
        c.unit,
        c.verdict,
        coalesce(c.verdict = '确认群租', false) as is_confirmed_group_rental,
        coalesce(c.verdict in ('确认出租', '非出租'), false) as is_negative,
        c.occupants_found,
        c.hazards_found,
        -- place
        c.address,
        c.address_norm,
        l.district,
        l.street,
        {{ region_key('l.district', 'l.street') }} as region_key,
        coalesce(l.link_method, 'none') as link_method
    from checks as c
    left join links as l
        on c.check_id = l.record_id
)

select * from final
