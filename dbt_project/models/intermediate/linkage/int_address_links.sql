-- Record linkage: every addressed record of every system linked to a registered
-- dwelling, in three passes, and to a region.
--   1. house_id     the record names a house id that is in the registry;
--   2. exact        its address key equals a known address of exactly one dwelling
--                   (in a compatible district);
--   3. fuzzy        among registry dwellings with the same digit signature (blocking)
--                   in a compatible district, the most similar address key by edit
--                   similarity (int_address_fuzzy_scores), when at least
--                   var link_min_similarity and ahead of the runner-up dwelling by
--                   var link_min_margin.
-- Region: the row's own district/street, else the linked dwelling's, else what the
-- address names (district prefix; street prefix or the street of its road).
with

deterministic as (
    select * from {{ ref('int_address_deterministic_links') }}
),

scores as (
    select * from {{ ref('int_address_fuzzy_scores') }}
),

dwellings as (
    select * from {{ ref('int_dwellings') }}
),

streets as (
    select * from {{ ref('int_streets') }}
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
    from scores
),

by_fuzzy as (
    select
        entity,
        record_id,
        house_id,
        similarity
    from fuzzy_ranked
    where candidate_rank = 1
        and similarity >= {{ var('link_min_similarity') }}
        and similarity - coalesce(runner_up_similarity, 0) >= {{ var('link_min_margin') }}
),

linked as (
    select
        p.*,
        coalesce(p.house_id, f.house_id) as linked_house_id,
        coalesce(p.link_method, case when f.house_id is not null then 'fuzzy' end, 'none')
            as linked_method,
        case
            when p.link_method is not null then 1.0
            else f.similarity
        end as linked_score
    from deterministic as p
    left join by_fuzzy as f
        on p.entity = f.entity
        and p.record_id = f.record_id
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

resolved as (
    select
        p.*,
        d.district as dwelling_district,
        d.street as dwelling_street,
        d.community as dwelling_community,
        coalesce(p.district, p.street_district, d.district, p.address_district)
            as resolved_district
    from linked as p
    left join dwellings as d
        on p.linked_house_id = d.house_id
),

final as (
    select
        p.entity,
        p.record_id,
        p.address_norm,
        p.house_id_given,
        p.linked_house_id as house_id,
        p.linked_method as link_method,
        p.linked_score as link_score,
        p.resolved_district as district,
        -- a street only counts when it belongs to the resolved district
        case
            when p.street is not null and own.street is not null
                then p.street
            when p.dwelling_street is not null
                and p.resolved_district = p.dwelling_district then p.dwelling_street
            when p.address_street is not null
                and p.resolved_district = p.address_street_district then p.address_street
            else rs.street
        end as street,
        coalesce(
            p.community,
            case when p.resolved_district = p.dwelling_district then p.dwelling_community end
        ) as community,
        case
            when p.district is not null and p.entity = 'grid_events' then 'grid_code'
            when p.street is not null and own.street is not null
                then 'row'
            when p.dwelling_street is not null
                and p.resolved_district = p.dwelling_district then 'dwelling'
            when (p.address_street is not null
                and p.resolved_district = p.address_street_district)
                or rs.street is not null then 'address'
            when p.district is not null then 'row'
            when p.resolved_district is not null then 'address'
            else 'none'
        end as region_source
    from resolved as p
    left join streets as own
        on p.resolved_district = own.district
        and p.street = own.street
    left join road_streets as rs
        on p.resolved_district = rs.district
        and p.road = rs.road
)

select * from final
