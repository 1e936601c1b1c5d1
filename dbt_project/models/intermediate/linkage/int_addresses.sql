-- Address standardisation: every distinct normalised address of any system, split into
-- the district and street it names (matched against the region reference, longest name
-- first) and the remaining core; the core parsed into road, number, building and room,
-- which make the address key (compound names and other noise dropped); and the digit
-- signature of the key, used to block fuzzy matching (typos rarely touch the numbers).
--
-- Incremental: an address's parse depends only on its text, this model's code and the
-- region reference's (district, street) names, so a daily build parses only the addresses
-- it has not parsed under the current code and reference (parse_fingerprint, a hash of
-- both: macros/addresses.sql). A delivery that changes the reference, or a change to
-- this file, changes the fingerprint, and every address is parsed again (so does an older
-- table without the column: its rows get NULL). Addresses that no record or house names
-- any more (a correction moved the record) are deleted after the build, so the table
-- equals a full refresh.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='address_norm',
    on_schema_change='append_new_columns',
    post_hook="{{ delete_unnamed_addresses() }}"
) }}
{#- a table built before parse_fingerprint existed is parsed again whole -#}
{%- set parsed_before = is_incremental() and execute and 'parse_fingerprint' in (
    adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list
) %}

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

fingerprint as (
    select {{ address_parse_fingerprint('streets') }} as parse_fingerprint
    from streets
),

addresses as (
    select distinct all_addresses.address_norm
    from (
        select address_norm from records
        union all
        select nullif(trim(address_norm), '') from houses
    ) as all_addresses
    where all_addresses.address_norm is not null
    {%- if parsed_before %}
        -- parsed before by this code under this region reference: kept as it is
        and not exists (
            select 1
            from {{ this }} as parsed
            where parsed.address_norm = all_addresses.address_norm
                and parsed.parse_fingerprint = (select parse_fingerprint from fingerprint)
        )
    {%- endif %}
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
        address_street_district,
        case
            when address_street is null then after_district
            else substr(after_district, length(address_street) + 1)
        end as core
    from (
        select
            w.*,
            s.street as address_street,
            s.district as address_street_district,
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

parts as (
    select
        address_norm,
        address_district,
        address_street,
        address_street_district,
        core,
        nullif(trim({{ regex_extract('core', '^(.*?)[0-9]+号') }}), '') as road,
        nullif({{ regex_extract('core', '([0-9]+)号') }}, '') as road_number,
        nullif({{ regex_extract('core', '号.*?([0-9]+)幢') }}, '') as building,
        nullif({{ regex_extract('core', '幢.*?([0-9]+)室') }}, '') as room
    from with_street
),

keyed as (
    select
        *,
        -- road + number + building + room: drops compound names and other noise that
        -- systems add or leave out between the number and the building
        case
            when road is not null and road_number is not null
                and building is not null and room is not null
                then {{ dbt.concat(["road", "road_number", "'号'", "building", "'幢'", "room", "'室'"]) }}
            else core
        end as address_key
    from parts
),

final as (
    select
        address_norm,
        address_district,
        address_street,
        address_street_district,
        core as address_core,
        address_key,
        road,
        road_number,
        building,
        room,
        trim(
            {{ regex_replace_all('address_key', '[^0-9]+', '-') }},
            '-'
        ) as digit_signature,
        (select parse_fingerprint from fingerprint) as parse_fingerprint
    from keyed
)

select * from final
