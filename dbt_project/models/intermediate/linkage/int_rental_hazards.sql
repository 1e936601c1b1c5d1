-- Each record of rental hazards with its linked dwelling and region, the
-- intermediate models' view of fct_rental_hazards (which publishes it). A view: the fact is its copy.
{{ config(materialized='view') }}

with

hazards as (
    select * from {{ ref('stg_rental__hazards') }}
),

links as (
    select * from {{ ref('int_address_links') }}
    where entity = 'rental_hazards'
),

final as (
    select
        -- ids
        h.hazard_id,
        coalesce(l.house_id, h.house_id) as house_id,
        -- hazard
        h.hazard_type,
        h.found_by,
        -- dates
        h.found_at,
        {{ month_start('h.found_at') }} as found_month,
        h.due_at,
        {{ month_start('coalesce(h.due_at, h.found_at)') }} as due_month,
        -- rectification
        h.status,
        coalesce(h.status = '已整改', false) as is_fixed,
        coalesce(h.status is distinct from '已整改', true) as is_open,
        h.fixed_at,
        coalesce(
            h.status = '已整改' and h.fixed_at is not null and h.due_at is not null
            and h.fixed_at <= h.due_at,
            false
        ) as is_fixed_on_time,
        case
            when h.status = '已整改' and h.fixed_at is not null and h.found_at is not null
                then {{ hours_between('h.found_at', 'h.fixed_at') }}
        end as hours_to_fix,
        -- place (of the dwelling)
        l.district,
        l.street,
        {{ region_key('l.district', 'l.street') }} as region_key,
        h.updated_at
    from hazards as h
    left join links as l
        on h.hazard_id = l.record_id
)

select * from final
