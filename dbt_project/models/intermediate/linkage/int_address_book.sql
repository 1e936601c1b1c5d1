-- Known addresses of dwellings: the rental registry's own address, plus every other
-- address under which a record that names its house id (floating-population
-- registrations, rental checks) refers to a registered dwelling. One row per
-- (address key, district, house) with where it was learnt.
with

houses as (
    select * from {{ ref('stg_rental__houses') }}
),

records as (
    select * from {{ ref('int_address_records') }}
),

addresses as (
    select * from {{ ref('int_addresses') }}
),

registry as (
    select
        h.house_id,
        a.address_key,
        coalesce(nullif(trim(h.district), ''), a.address_district) as district,
        'rental_registry' as learnt_from
    from houses as h
    inner join addresses as a
        on nullif(trim(h.address_norm), '') = a.address_norm
),

aliases as (
    select
        r.house_id_given as house_id,
        a.address_key,
        coalesce(a.address_district, reg.district) as district,
        'record_with_house_id' as learnt_from
    from records as r
    inner join houses as h
        on r.house_id_given = h.house_id
    inner join registry as reg
        on r.house_id_given = reg.house_id
    inner join addresses as a
        on r.address_norm = a.address_norm
),

unioned as (
    select * from registry
    union all
    select * from aliases
),

final as (
    select
        address_key,
        district,
        house_id,
        min(learnt_from) as learnt_from,
        count(*) as occurrences
    from unioned
    where address_key is not null
        and address_key <> ''
    group by 1, 2, 3
)

select * from final
