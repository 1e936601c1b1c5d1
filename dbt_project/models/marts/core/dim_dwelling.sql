with

dwellings as (
    select * from {{ ref('int_dwellings') }}
),

final as (
    select
        house_id,
        address,
        address_norm,
        district,
        street,
        community,
        {{ region_key('district', 'street') }} as region_key,
        floor_area_m2,
        rooms,
        rent_mode,
        registered_tenants,
        house_status,
        registered_at,
        lease_start,
        lease_end,
        lon,
        lat,
        landlord_pseudonym,
        updated_at
    from dwellings
)

select * from final
