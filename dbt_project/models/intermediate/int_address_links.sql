-- Record linkage: every addressed record of every system linked to a registered
-- dwelling, in three passes, and to a region.
--   1. house_id     the record names a house id that is in the registry;
--   2. exact        its address key equals a known address of exactly one dwelling
--                   (in a compatible district);
--   3. fuzzy        among registry dwellings with the same digit signature (blocking)
--                   in a compatible district, the most similar address key by
--                   Jaro-Winkler similarity, when at least var link_min_similarity and
--                   ahead of the runner-up dwelling by var link_min_margin.
-- Region: the row's own district/street, else the linked dwelling's, else what the
-- address names (district prefix; street prefix or the street of its road).
with

records as (
    select * from {{ ref('int_address_records') }}
),

addresses as (
    select * from {{ ref('int_addresses') }}
),

book as (
    select * from {{ ref('int_address_book') }}
),

dwellings as (
    select * from {{ ref('int_dwellings') }}
),

parsed as (
    select
        r.*,
        a.address_key,
        a.address_district,
        a.address_street,
        a.road,
        a.digit_signature,
        coalesce(r.district, a.address_district) as district_hint
    from records as r
    left join addresses as a
        on r.address_norm = a.address_norm
),

by_house_id as (
    select
        p.entity,
        p.record_id,
        p.house_id_given as house_id,
        'house_id' as link_method,
        1.0 as link_score
    from parsed as p
    inner join dwellings as d
        on p.house_id_given = d.house_id
),

exact_candidates as (
    select
        p.entity,
        p.record_id,
        b.house_id
    from parsed as p
    inner join book as b
        on p.address_key = b.address_key
        and (p.district_hint is null or b.district is null or p.district_hint = b.district)
    where not exists (
        select 1 from by_house_id as h
        where h.entity = p.entity and h.record_id = p.record_id
    )
    group by 1, 2, 3
),

by_exact as (
    select
        entity,
        record_id,
        min(house_id) as house_id,
        'exact' as link_method,
        1.0 as link_score
    from exact_candidates
    group by 1, 2
    having count(*) = 1
),

unlinked as (
    select p.*
    from parsed as p
    where p.digit_signature is not null
        and p.digit_signature <> ''
        and not exists (
            select 1 from by_house_id as h
            where h.entity = p.entity and h.record_id = p.record_id
        )
        and not exists (
            select 1 from exact_candidates as e
            where e.entity = p.entity and e.record_id = p.record_id
        )
),

fuzzy_candidates as (
    select
        u.entity,
        u.record_id,
        d.house_id,
        {{ string_similarity('u.address_key', 'd.address_key') }} as similarity
    from unlinked as u
    inner join dwellings as d
        on u.digit_signature = d.digit_signature
        and (u.district_hint is null or d.district is null or u.district_hint = d.district)
),

fuzzy_ranked as (
    select
        *,
        row_number() over (
            partition by entity, record_id
            order by similarity desc, house_id
        ) as candidate_rank,
        lead(similarity) over (
            partition by entity, record_id
            order by similarity desc, house_id
        ) as runner_up_similarity
    from fuzzy_candidates
),

by_fuzzy as (
    select
        entity,
        record_id,
        house_id,
        'fuzzy' as link_method,
        similarity as link_score
    from fuzzy_ranked
    where candidate_rank = 1
        and similarity >= {{ var('link_min_similarity') }}
        and similarity - coalesce(runner_up_similarity, 0) >= {{ var('link_min_margin') }}
),

links as (
    select * from by_house_id
    union all
    select * from by_exact
    union all
    select * from by_fuzzy
),

road_streets as (
    -- the street a road lies in, learnt from the registry (majority vote)
    select district, road, street
    from (
        select
            district,
            road,
            street,
            row_number() over (
                partition by district, road
                order by count(*) desc, street
            ) as preference
        from dwellings
        where road is not null and street is not null and district is not null
        group by 1, 2, 3
    ) as votes
    where preference = 1
),

final as (
    select
        p.entity,
        p.record_id,
        p.address_norm,
        p.house_id_given,
        l.house_id,
        coalesce(l.link_method, 'none') as link_method,
        l.link_score,
        coalesce(p.district, d.district, p.address_district) as district,
        case
            -- a street only counts when it belongs to the resolved district
            when p.street is not null then p.street
            when d.street is not null
                and coalesce(p.district, d.district) = d.district then d.street
            when p.address_street is not null then p.address_street
            else rs.street
        end as street,
        coalesce(p.community, d.community) as community,
        case
            when p.street is not null then 'row'
            when p.district is not null and p.entity = 'grid_events' then 'grid_code'
            when d.street is not null then 'dwelling'
            when p.address_street is not null or rs.street is not null then 'address'
            when p.district is not null then 'row'
            when p.address_district is not null then 'address'
            else 'none'
        end as region_source
    from parsed as p
    left join links as l
        on p.entity = l.entity
        and p.record_id = l.record_id
    left join dwellings as d
        on l.house_id = d.house_id
    left join road_streets as rs
        on coalesce(p.district, d.district, p.address_district) = rs.district
        and p.road = rs.road
)

select * from final
