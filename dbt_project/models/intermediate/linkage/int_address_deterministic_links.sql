-- Linkage passes 1 and 2 for every addressed record (one row per record). The district
-- hint that restricts matches is the row's district, else the district of the row's
-- street (when that street name exists in one district only), else the address's.
--   1. house_id  the record names a house id that is in the registry;
--   2. exact     its address key equals a known address (int_address_book) of exactly
--                one dwelling in a compatible district (same district, or either unknown).
-- `exact_candidates` counts the dwellings of pass 2: more than one means ambiguous,
-- which is left unlinked rather than guessed (and not passed on to fuzzy matching).
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

streets as (
    select * from {{ ref('int_streets') }}
),

-- the district of a street name that exists in one district only
street_districts as (
    select
        street,
        min(district) as district
    from streets
    group by street
    having count(distinct district) = 1
),

parsed as (
    select
        r.*,
        a.address_key,
        a.address_district,
        a.address_street,
        a.address_street_district,
        a.road,
        a.digit_signature,
        sd.district as street_district,
        coalesce(r.district, sd.district, a.address_district) as district_hint
    from records as r
    left join addresses as a
        on r.address_norm = a.address_norm
    left join street_districts as sd
        on r.street = sd.street
),

exact_matches as (
    select
        p.entity,
        p.record_id,
        count(distinct b.house_id) as exact_candidates,
        min(b.house_id) as house_id
    from parsed as p
    inner join book as b
        on p.address_key = b.address_key
        and (p.district_hint is null or b.district is null or p.district_hint = b.district)
    group by 1, 2
),

final as (
    select
        p.*,
        coalesce(e.exact_candidates, 0) as exact_candidates,
        case
            when d.house_id is not null then d.house_id
            when e.exact_candidates = 1 then e.house_id
        end as house_id,
        case
            when d.house_id is not null then 'house_id'
            when e.exact_candidates = 1 then 'exact'
        end as link_method
    from parsed as p
    left join dwellings as d
        on p.house_id_given = d.house_id
    left join exact_matches as e
        on p.entity = e.entity
        and p.record_id = e.record_id
)

select * from final
