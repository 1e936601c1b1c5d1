-- One row per record: the linked hotline_tickets of int_hotline_tickets, published.
--
-- Incremental (delete+insert on ticket_id): a ticket's row depends only on its staged
-- version and its address link, so a build replaces the tickets whose staged version was
-- delivered after the fact's high-water mark (its highest _delivery_seq; raw is
-- append-only and each delivery's number is higher than all before it) and the tickets
-- whose link (district, street, dwelling, method, score) is no longer the one stored: a
-- new house in the registry can link an old ticket. Staging never drops a key, so
-- nothing is deleted. A change to this model's or int_hotline_tickets' code needs
-- `pingan run --full-refresh` (the Sunday run does it).
-- depends_on: {{ ref('int_address_links') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='ticket_id',
    on_schema_change='fail'
) }}

with

tickets as (
    select * from {{ ref('int_hotline_tickets') }}
),

{%- if is_incremental() %}

links as (
    select * from {{ ref('int_address_links') }}
    where entity = 'hotline_tickets'
),

changed as (
    select ticket_id
    from tickets
    where _delivery_seq > (select coalesce(max(done._delivery_seq), -1) from {{ this }} as done)

    union

    select f.ticket_id
    from {{ this }} as f
    left join links as l
        on f.ticket_id = l.record_id
    where f.district is distinct from l.district
        or f.street is distinct from l.street
        or f.house_id is distinct from l.house_id
        or f.link_method is distinct from coalesce(l.link_method, 'none')
        or f.link_score is distinct from l.link_score
),
{%- endif %}

final as (
    select t.*
    from tickets as t
    {%- if is_incremental() %}
    inner join changed as c
        on t.ticket_id = c.ticket_id
    {%- endif %}
)

select * from final
