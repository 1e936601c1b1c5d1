-- Blocking for fuzzy linkage (pass 3): records that passes 1 and 2 left unlinked (and
-- not ambiguous), paired with the registered dwellings that share their digit signature
-- (road number, building, room: typos rarely touch the numbers) in a compatible district.
-- A pair is a candidate only when the record's road or the dwelling's road is rare in
-- the district's registry (fewer than var link_established_road_min dwellings): a typo,
-- in the record or in the registry itself, makes a rare road name, while two
-- established roads are two places (工农东路 is not a typo of 工农西路, and an
-- unregistered flat on a known road is not a rental dwelling).
with

links as (
    select * from {{ ref('int_address_deterministic_links') }}
),

dwellings as (
    select * from {{ ref('int_dwellings') }}
),

road_sizes as (
    select
        district,
        road,
        count(*) as dwellings
    from dwellings
    where road is not null
    group by 1, 2
),

unlinked as (
    select *
    from links
    where link_method is null
        and exact_candidates = 0
        and digit_signature is not null
        and digit_signature <> ''
),

pairs as (
    select
        u.entity,
        u.record_id,
        d.house_id,
        u.address_key as record_key,
        d.address_key as dwelling_key,
        u.road as record_road,
        coalesce(u.district_hint, d.district) as district,
        d.road as dwelling_road
    from unlinked as u
    inner join dwellings as d
        on u.digit_signature = d.digit_signature
        and (u.district_hint is null or d.district is null or u.district_hint = d.district)
),

final as (
    select
        p.entity,
        p.record_id,
        p.house_id,
        p.record_key,
        p.dwelling_key
    from pairs as p
    left join road_sizes as rr
        on p.district = rr.district
        and p.record_road = rr.road
    left join road_sizes as dr
        on p.district = dr.district
        and p.dwelling_road = dr.road
    where coalesce(rr.dwellings, 0) < {{ var('link_established_road_min') }}
        or coalesce(dr.dwellings, 0) < {{ var('link_established_road_min') }}
)

select * from final
