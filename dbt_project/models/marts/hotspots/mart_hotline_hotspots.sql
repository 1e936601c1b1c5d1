-- Where a month's 12345 tickets come from, as points for the map (挂图作战): the tickets
-- of each place (district + road + number, a building or compound) with the place's
-- position, and its street's tickets per 10k residents.
-- The hotline does not geocode its tickets; the rental registry is the only source of
-- coordinates, so a place's position is the mean of the registered dwellings at that
-- road and number in that district. A place where no dwelling is registered keeps its
-- row with no position (the map lists it beside the points, it is never dropped);
-- tickets whose address names no road and number count for their street only.
with

tickets as (
    select * from {{ ref('fct_hotline_tickets') }}
),

addresses as (
    select * from {{ ref('int_addresses') }}
),

dwellings as (
    select * from {{ ref('int_dwellings') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

placed as (
    select
        t.received_month as month_start,
        t.district,
        t.street,
        t.region_key,
        a.road,
        a.road_number,
        t.is_security_complaint
    from tickets as t
    left join addresses as a
        on t.address_norm = a.address_norm
    where not t.is_cancelled
        and t.street is not null
),

positions as (
    select
        district,
        road,
        road_number,
        avg(lon) as lon,
        avg(lat) as lat,
        cast(count(*) as bigint) as registered_dwellings
    from dwellings
    where road is not null
        and road_number is not null
        and lon is not null
        and lat is not null
    group by district, road, road_number
),

street_months as (
    select
        month_start,
        region_key,
        cast(count(*) as bigint) as street_tickets
    from placed
    group by month_start, region_key
),

places as (
    select
        month_start,
        district,
        street,
        region_key,
        road,
        road_number,
        cast(count(*) as bigint) as tickets,
        cast(sum(case when is_security_complaint then 1 else 0 end) as bigint) as security_tickets
    from placed
    where road is not null
        and road_number is not null
    group by month_start, district, street, region_key, road, road_number
),

final as (
    select
        p.month_start,
        {{ month_text('p.month_start') }} as month,
        p.district,
        p.street,
        p.region_key,
        {{ dbt.concat(["p.road", "p.road_number", "'号'"]) }} as place,
        p.tickets,
        p.security_tickets,
        pos.lon,
        pos.lat,
        coalesce(pos.registered_dwellings, cast(0 as bigint)) as registered_dwellings,
        s.street_tickets,
        cast(r.population as bigint) as street_population,
        {{ safe_divide('s.street_tickets * 10000.0', 'r.population') }}
            as street_tickets_per_10k,
        row_number() over (
            partition by p.month_start
            order by p.tickets desc, p.region_key, p.road, p.road_number
        ) as place_rank
    from places as p
    inner join street_months as s
        on p.month_start = s.month_start
        and p.region_key = s.region_key
    left join positions as pos
        on p.district = pos.district
        and p.road = pos.road
        and p.road_number = pos.road_number
    left join regions as r
        on p.region_key = r.region_key
)

select * from final
