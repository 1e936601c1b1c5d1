-- Blocking for fuzzy linkage (pass 3): records that passes 1 and 2 left unlinked (and
-- not ambiguous), paired with the registered dwellings that share their digit signature
-- (road number, building, room: typos rarely touch the numbers) in a compatible district.
with

links as (
    select * from {{ ref('int_address_deterministic_links') }}
),

dwellings as (
    select * from {{ ref('int_dwellings') }}
),

unlinked as (
    select *
    from links
    where link_method is null
        and exact_candidates = 0
        and digit_signature is not null
        and digit_signature <> ''
),

final as (
    select
        u.entity,
        u.record_id,
        d.house_id,
        u.address_key as record_key,
        d.address_key as dwelling_key
    from unlinked as u
    inner join dwellings as d
        on u.digit_signature = d.digit_signature
        and (u.district_hint is null or d.district is null or u.district_hint = d.district)
)

select * from final
