-- Each record of floating population with its linked dwelling and region, the
-- intermediate models' view of fct_floating_population (which publishes it). A view: the fact is its copy.
{{ config(materialized='view') }}

with

registrations as (
    select * from {{ ref('stg_police__floating_population') }}
),

links as (
    select * from {{ ref('int_address_links') }}
    where entity = 'police_floating_population'
),

as_of as (
    select * from {{ ref('int_as_of') }}
),

final as (
    select
        -- ids
        r.registration_id,
        r.id_number_pseudonym as person_pseudonym,
        -- person
        r.sex,
        r.birth_date,
        r.hukou_place,
        r.reason,
        -- dates
        r.registered_at,
        {{ month_start('r.registered_at') }} as registered_month,
        r.deregistered_at,
        (r.deregistered_at is null or cast(r.deregistered_at as date) > a.as_of_date)
            as is_active,
        -- place
        r.address,
        r.address_norm,
        l.district,
        l.street,
        {{ region_key('l.district', 'l.street') }} as region_key,
        l.house_id,
        coalesce(l.link_method, 'none') as link_method,
        l.link_score
    from registrations as r
    cross join as_of as a
    left join links as l
        on r.registration_id = l.record_id
)

select * from final
