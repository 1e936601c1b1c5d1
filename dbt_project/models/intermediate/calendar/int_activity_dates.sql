-- The dates of activity of every dated record (used to find the covered months and the
-- reference date of "recent" windows).
with

tickets as (select received_at as activity_at from {{ ref('stg_hotline__tickets') }}),
events as (select reported_at as activity_at from {{ ref('stg_grid__events') }}),
incidents as (select reported_at as activity_at from {{ ref('stg_police__incidents') }}),
cases as (
    select coalesce(filed_at, occurred_at) as activity_at from {{ ref('stg_police__cases') }}
),
floating as (
    select registered_at as activity_at from {{ ref('stg_police__floating_population') }}
),
checks as (select checked_at as activity_at from {{ ref('stg_police__rental_checks') }}),
hazards as (select found_at as activity_at from {{ ref('stg_rental__hazards') }}),

unioned as (
    select 'hotline_tickets' as entity, activity_at from tickets
    union all select 'grid_events', activity_at from events
    union all select 'police_incidents', activity_at from incidents
    union all select 'police_cases', activity_at from cases
    union all select 'police_floating_population', activity_at from floating
    union all select 'police_rental_checks', activity_at from checks
    union all select 'rental_hazards', activity_at from hazards
),

final as (
    select
        entity,
        {{ month_start('activity_at') }} as month_start,
        count(*) as records,
        min(activity_at) as first_at,
        max(activity_at) as last_at
    from unioned
    where activity_at is not null
    group by 1, 2
)

select * from final
