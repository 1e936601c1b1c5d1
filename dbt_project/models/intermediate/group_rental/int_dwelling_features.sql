-- Group-rental features of every registered dwelling, over windows ending at the
-- reference date (int_as_of): occupancy against the registry, floating-population
-- registrations, complaints, grid events, incidents and hazards linked to it.
with

dwellings as (
    select * from {{ ref('int_dwellings') }}
),

as_of as (
    select * from {{ ref('int_as_of') }}
),

floating as (
    select * from {{ ref('int_floating_population') }}
    where house_id is not null
),

tickets as (
    select * from {{ ref('int_hotline_tickets') }}
    where house_id is not null
),

events as (
    select * from {{ ref('int_grid_events') }}
    where house_id is not null
),

incidents as (
    select * from {{ ref('int_police_incidents') }}
    where house_id is not null
),

hazards as (
    select * from {{ ref('int_rental_hazards') }}
    where house_id is not null
),

floating_features as (
    select
        f.house_id,
        count(distinct case
            when cast(f.registered_at as date) <= a.as_of_date
                and (f.deregistered_at is null or cast(f.deregistered_at as date) > a.as_of_date)
                then coalesce(f.person_pseudonym, f.registration_id)
        end) as active_floating_registrations,
        count(distinct case
            when cast(f.registered_at as date) <= a.as_of_date
                and cast(f.registered_at as date) > cast(
                    {{ dbt.dateadd('day', -var('group_rental_recent_days'), 'a.as_of_date') }} as date)
                then coalesce(f.person_pseudonym, f.registration_id)
        end) as floating_registrations_90d,
        sum(case
            when cast(f.registered_at as date) <= a.as_of_date
                and cast(f.registered_at as date) > cast(
                    {{ dbt.dateadd('day', -var('group_rental_recent_days'), 'a.as_of_date') }} as date)
                then 1 else 0
        end)
        + sum(case
            when cast(f.deregistered_at as date) <= a.as_of_date
                and cast(f.deregistered_at as date) > cast(
                    {{ dbt.dateadd('day', -var('group_rental_recent_days'), 'a.as_of_date') }} as date)
                then 1 else 0
        end) as floating_turnover_90d,
        -- the long window of the learned model's robust counts (var group_rental_history_days)
        count(distinct case
            when cast(f.registered_at as date) <= a.as_of_date
                and cast(f.registered_at as date) > cast(
                    {{ dbt.dateadd('day', -var('group_rental_history_days'), 'a.as_of_date') }} as date)
                then coalesce(f.person_pseudonym, f.registration_id)
        end) as floating_registrations_365d,
        sum(case
            when cast(f.deregistered_at as date) <= a.as_of_date
                and cast(f.deregistered_at as date) > cast(
                    {{ dbt.dateadd('day', -var('group_rental_history_days'), 'a.as_of_date') }} as date)
                then 1 else 0
        end) as floating_deregistrations_365d
    from floating as f
    cross join as_of as a
    group by f.house_id
),

ticket_features as (
    select
        t.house_id,
        count(*) as complaints_180d,
        sum(case when t.is_group_rental_complaint then 1 else 0 end) as group_rental_complaints_180d,
        sum(case
            when t.category_path like '%噪音%' or t.category_path like '%噪声%' then 1 else 0
        end) as noise_complaints_180d
    from tickets as t
    cross join as_of as a
    where cast(t.received_at as date) <= a.as_of_date
        and cast(t.received_at as date) > cast(
            {{ dbt.dateadd('day', -var('group_rental_signal_days'), 'a.as_of_date') }} as date)
    group by t.house_id
),

-- complaints of the long window by category: group rental, noise, fire safety (e-bike
-- charging, blocked exits) and unrelated ones (an address that attracts complaints about
-- roads, lights or pollution is a confounder, not a sign)
ticket_history as (
    select
        t.house_id,
        sum(case when t.is_group_rental_complaint then 1 else 0 end)
            as group_rental_complaints_365d,
        sum(case
            when t.category_path like '%噪音%' or t.category_path like '%噪声%' then 1 else 0
        end) as noise_complaints_365d,
        sum(case
            when t.category_path like '%消防%' or t.category_path like '%电动车%' then 1 else 0
        end) as fire_safety_complaints_365d,
        sum(case
            when not coalesce(t.is_group_rental_complaint, false)
                and coalesce(t.category_path, '') not like '%噪音%'
                and coalesce(t.category_path, '') not like '%噪声%'
                and coalesce(t.category_path, '') not like '%消防%'
                and coalesce(t.category_path, '') not like '%电动车%'
                then 1 else 0
        end) as unrelated_complaints_365d
    from tickets as t
    cross join as_of as a
    where cast(t.received_at as date) <= a.as_of_date
        and cast(t.received_at as date) > cast(
            {{ dbt.dateadd('day', -var('group_rental_history_days'), 'a.as_of_date') }} as date)
    group by t.house_id
),

-- the grid's own findings only: an event the hotline transferred (12345转办, with the
-- ticket it came from) is the same report as a complaint already counted above, and
-- counting it again made one caller's report look like two independent systems (an
-- address that attracts complaints then scored like a corroborated group rental)
event_history as (
    select
        e.house_id,
        sum(case when e.category = '出租房屋' then 1 else 0 end) as grid_rental_events_365d,
        sum(case when e.category = '安全隐患' then 1 else 0 end) as grid_hazard_events_365d
    from events as e
    cross join as_of as a
    where e.hotline_ticket_id is null
        and coalesce(e.origin, '') != '12345转办'
        and cast(e.reported_at as date) <= a.as_of_date
        and cast(e.reported_at as date) > cast(
            {{ dbt.dateadd('day', -var('group_rental_history_days'), 'a.as_of_date') }} as date)
    group by e.house_id
),

incident_history as (
    select
        i.house_id,
        count(*) as police_incidents_365d
    from incidents as i
    cross join as_of as a
    where cast(i.reported_at as date) <= a.as_of_date
        and cast(i.reported_at as date) > cast(
            {{ dbt.dateadd('day', -var('group_rental_history_days'), 'a.as_of_date') }} as date)
    group by i.house_id
),

event_features as (
    select
        e.house_id,
        count(*) as grid_rental_events_180d
    from events as e
    cross join as_of as a
    where e.category = '出租房屋'
        and cast(e.reported_at as date) <= a.as_of_date
        and cast(e.reported_at as date) > cast(
            {{ dbt.dateadd('day', -var('group_rental_signal_days'), 'a.as_of_date') }} as date)
    group by e.house_id
),

incident_features as (
    select
        i.house_id,
        count(*) as police_incidents_180d
    from incidents as i
    cross join as_of as a
    where cast(i.reported_at as date) <= a.as_of_date
        and cast(i.reported_at as date) > cast(
            {{ dbt.dateadd('day', -var('group_rental_signal_days'), 'a.as_of_date') }} as date)
    group by i.house_id
),

hazard_features as (
    select
        h.house_id,
        sum(case when h.is_open then 1 else 0 end) as open_hazards,
        count(*) as hazards_found
    from hazards as h
    cross join as_of as a
    where h.found_at is null or cast(h.found_at as date) <= a.as_of_date
    group by h.house_id
),

joined as (
    select
        d.house_id,
        d.address,
        d.district,
        d.street,
        d.lon,
        d.lat,
        d.house_status,
        a.as_of_date,
        d.floor_area_m2,
        d.rooms,
        d.registered_tenants,
        coalesce(f.active_floating_registrations, 0) as active_floating_registrations,
        coalesce(f.floating_registrations_90d, 0) as floating_registrations_90d,
        coalesce(f.floating_turnover_90d, 0) as floating_turnover_90d,
        coalesce(t.complaints_180d, 0) as complaints_180d,
        coalesce(t.group_rental_complaints_180d, 0) as group_rental_complaints_180d,
        coalesce(t.noise_complaints_180d, 0) as noise_complaints_180d,
        coalesce(e.grid_rental_events_180d, 0) as grid_rental_events_180d,
        coalesce(i.police_incidents_180d, 0) as police_incidents_180d,
        coalesce(h.open_hazards, 0) as open_hazards,
        coalesce(f.floating_registrations_365d, 0) as floating_registrations_365d,
        coalesce(f.floating_deregistrations_365d, 0) as floating_deregistrations_365d,
        coalesce(th.group_rental_complaints_365d, 0) as group_rental_complaints_365d,
        coalesce(th.noise_complaints_365d, 0) as noise_complaints_365d,
        coalesce(th.fire_safety_complaints_365d, 0) as fire_safety_complaints_365d,
        coalesce(th.unrelated_complaints_365d, 0) as unrelated_complaints_365d,
        coalesce(eh.grid_rental_events_365d, 0) as grid_rental_events_365d,
        coalesce(eh.grid_hazard_events_365d, 0) as grid_hazard_events_365d,
        coalesce(ih.police_incidents_365d, 0) as police_incidents_365d,
        coalesce(h.hazards_found, 0) as hazards_found
    from dwellings as d
    cross join as_of as a
    left join floating_features as f on d.house_id = f.house_id
    left join ticket_features as t on d.house_id = t.house_id
    left join event_features as e on d.house_id = e.house_id
    left join incident_features as i on d.house_id = i.house_id
    left join hazard_features as h on d.house_id = h.house_id
    left join ticket_history as th on d.house_id = th.house_id
    left join event_history as eh on d.house_id = eh.house_id
    left join incident_history as ih on d.house_id = ih.house_id
),

final as (
    select
        *,
        greatest(coalesce(registered_tenants, 0), active_floating_registrations)
            as occupants_estimate,
        {{ safe_divide(
            'greatest(coalesce(registered_tenants, 0), active_floating_registrations)', 'rooms'
        ) }} as occupants_per_room,
        {{ safe_divide(
            'floor_area_m2',
            'greatest(coalesce(registered_tenants, 0), active_floating_registrations)'
        ) }} as area_per_person_m2,
        active_floating_registrations - coalesce(registered_tenants, 0) as registration_gap,
        {{ safe_divide(
            '10.0 * greatest(coalesce(registered_tenants, 0), active_floating_registrations)',
            'floor_area_m2'
        ) }} as occupants_per_10m2,
        -- independent systems that each show a sign (a group rental shows in several; most
        -- confounders, like a quarrelsome neighbour, in one): related complaints, grid
        -- rental or hazard events, 110 incidents, rental hazards, deregistration churn
        (case when group_rental_complaints_365d + noise_complaints_365d
            + fire_safety_complaints_365d > 0 then 1 else 0 end)
        + (case when grid_rental_events_365d + grid_hazard_events_365d > 0 then 1 else 0 end)
        + (case when police_incidents_365d > 0 then 1 else 0 end)
        + (case when hazards_found > 0 then 1 else 0 end)
        + (case when floating_deregistrations_365d > 0 then 1 else 0 end)
            as corroborating_sources
    from joined
)

select * from final
