-- Registered dwellings with their standardised address and resolved region
-- (the row's district/street, else what the address names).
with

houses as (
    select * from {{ ref('stg_rental__houses') }}
),

addresses as (
    select * from {{ ref('int_addresses') }}
),

final as (
    select
        h.house_id,
        h.address,
        h.address_norm,
        a.address_core,
        a.address_key,
        a.road,
        a.road_number,
        a.digit_signature,
        coalesce(nullif(trim(h.district), ''), a.address_district) as district,
        coalesce(nullif(trim(h.street), ''), a.address_street) as street,
        nullif(trim(h.community), '') as community,
        h.floor_area_m2,
        h.rooms,
        h.rent_mode,
        h.registered_tenants,
        h.status as house_status,
        h.registered_at,
        h.lease_start,
        h.lease_end,
        h.lon,
        h.lat,
        h.landlord_id_number_pseudonym as landlord_pseudonym,
        h.updated_at
    from houses as h
    left join addresses as a
        on nullif(trim(h.address_norm), '') = a.address_norm
)

select * from final
