-- Address standardisation: every distinct normalised address of any system, split into
-- the district and street it names (matched against the region reference, longest name
-- first), the remaining core (road, number, building, room), the road, and the digit
-- signature used to block fuzzy matching (typos rarely touch the numbers).
with

records as (
    select address_norm from {{ ref('int_address_records') }}
),

houses as (
    select address_norm from {{ ref('stg_rental__houses') }}
),

streets as (
    select * from {{ ref('int_streets') }}
),

addresses as (
    select distinct address_norm
    from (
        select address_norm from records
        union all
        select nullif(trim(address_norm), '') from houses
    ) as all_addresses
    where address_norm is not null
),

districts as (
    select distinct district from streets
),

with_district as (
    select
        address_norm,
        address_district,
        case
            when address_district is null then address_norm
            else substr(address_norm, length(address_district) + 1)
        end as after_district
    from (
        select
            a.address_norm,
            d.district as address_district,
            row_number() over (
                partition by a.address_norm
                order by length(d.district) desc nulls last
            ) as preference
        from addresses as a
        left join districts as d
            on substr(a.address_norm, 1, length(d.district)) = d.district
    ) as candidates
    where preference = 1
),

with_street as (
    select
        address_norm,
        address_district,
        address_street,
        case
            when address_street is null then after_district
            else substr(after_district, length(address_street) + 1)
        end as core
    from (
        select
            w.*,
            s.street as address_street,
            row_number() over (
                partition by w.address_norm
                order by length(s.street) desc nulls last
            ) as preference
        from with_district as w
        left join streets as s
            on substr(w.after_district, 1, length(s.street)) = s.street
            and (w.address_district is null or s.district = w.address_district)
    ) as candidates
    where preference = 1
),

final as (
    select
        address_norm,
        address_district,
        address_street,
        core as address_core,
        nullif({{ regex_extract('core', '^(.+?(路|街|大道|巷|弄|村|组))') }}, '') as road,
        nullif({{ regex_extract('core', '(\\d+)号') }}, '') as road_number,
        trim(
            {{ regex_replace_all('core', '[^0-9]+', '-') }},
            '-'
        ) as digit_signature
    from with_street
)

select * from final
