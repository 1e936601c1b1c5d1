-- Every record that names a place, in one shape: the entity, its id, the normalised
-- address, the house id when the record gives one, and the region the row itself states
-- (grid events: the region of their grid code).
with

tickets as (
    select * from {{ ref('stg_hotline__tickets') }}
),

grid_events as (
    select * from {{ ref('stg_grid__events') }}
),

grids as (
    select * from {{ ref('stg_grid__grids') }}
),

incidents as (
    select * from {{ ref('stg_police__incidents') }}
),

cases as (
    select * from {{ ref('stg_police__cases') }}
),

floating as (
    select * from {{ ref('stg_police__floating_population') }}
),

checks as (
    select * from {{ ref('stg_police__rental_checks') }}
),

hazards as (
    select * from {{ ref('stg_rental__hazards') }}
),

unioned as (
    select
        'hotline_tickets' as entity,
        ticket_id as record_id,
        address_norm,
        cast(null as varchar) as house_id_given,
        district,
        street,
        cast(null as varchar) as community
    from tickets

    union all

    select
        'grid_events' as entity,
        e.event_id as record_id,
        e.address_norm,
        cast(null as varchar) as house_id_given,
        g.district,
        g.street,
        g.community
    from grid_events as e
    left join grids as g
        on e.grid_code = g.grid_code

    union all

    select
        'police_incidents' as entity,
        incident_id as record_id,
        address_norm,
        cast(null as varchar) as house_id_given,
        district,
        cast(null as varchar) as street,
        cast(null as varchar) as community
    from incidents

    union all

    select
        'police_cases' as entity,
        case_id as record_id,
        address_norm,
        cast(null as varchar) as house_id_given,
        district,
        street,
        cast(null as varchar) as community
    from cases

    union all

    select
        'police_floating_population' as entity,
        registration_id as record_id,
        address_norm,
        house_id as house_id_given,
        cast(null as varchar) as district,
        cast(null as varchar) as street,
        cast(null as varchar) as community
    from floating

    union all

    select
        'police_rental_checks' as entity,
        check_id as record_id,
        address_norm,
        house_id as house_id_given,
        cast(null as varchar) as district,
        cast(null as varchar) as street,
        cast(null as varchar) as community
    from checks

    union all

    select
        'rental_hazards' as entity,
        hazard_id as record_id,
        cast(null as varchar) as address_norm,
        house_id as house_id_given,
        cast(null as varchar) as district,
        cast(null as varchar) as street,
        cast(null as varchar) as community
    from hazards
),

final as (
    select
        entity,
        record_id,
        nullif(trim(address_norm), '') as address_norm,
        nullif(trim(house_id_given), '') as house_id_given,
        nullif(trim(district), '') as district,
        nullif(trim(street), '') as street,
        nullif(trim(community), '') as community
    from unioned
)

select * from final
