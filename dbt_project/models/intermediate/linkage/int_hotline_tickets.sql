-- Each record of hotline tickets with its linked dwelling and region, the
-- intermediate models' view of fct_hotline_tickets (which publishes it). A view: the fact is its copy.
{{ config(materialized='view') }}

with

tickets as (
    select * from {{ ref('stg_hotline__tickets') }}
),

links as (
    select * from {{ ref('int_address_links') }}
    where entity = 'hotline_tickets'
),

categorised as (
    select
        *,
        nullif(split_part(category_path, '>', 1), '') as category_l1,
        nullif(split_part(category_path, '>', 2), '') as category_l2,
        nullif(split_part(category_path, '>', 3), '') as category_l3
    from tickets
),

final as (
    select
        -- ids
        t.ticket_id,
        -- dates
        t.received_at,
        {{ month_start('t.received_at') }} as received_month,
        -- request
        t.channel,
        t.request_type,
        t.category_path,
        t.category_l1,
        t.category_l2,
        t.category_l3,
        coalesce(t.category_l1 = '公共安全', false) as is_security_complaint,
        coalesce(
            t.category_path like '%群租%' or t.content like '%群租%',
            false
        ) as is_group_rental_complaint,
        t.department,
        -- handling
        t.status,
        coalesce(t.status = '已办结', false) as is_closed,
        coalesce(t.status = '已撤销', false) as is_cancelled,
        t.due_at,
        {{ month_start('coalesce(t.due_at, t.received_at)') }} as due_month,
        t.closed_at,
        coalesce(
            t.status = '已办结' and t.closed_at is not null and t.due_at is not null
            and t.closed_at <= t.due_at,
            false
        ) as is_closed_on_time,
        case
            when t.status = '已办结' and t.closed_at is not null and t.received_at is not null
                then {{ hours_between('t.received_at', 't.closed_at') }}
        end as hours_to_close,
        t.satisfaction,
        coalesce(t.satisfaction in ('满意', '基本满意', '不满意'), false) as is_rated,
        coalesce(t.satisfaction in ('满意', '基本满意'), false) as is_satisfied,
        coalesce(t.is_repeat, false) as is_repeat,
        -- place
        t.address,
        t.address_norm,
        l.district,
        l.street,
        {{ region_key('l.district', 'l.street') }} as region_key,
        l.house_id,
        coalesce(l.link_method, 'none') as link_method,
        l.link_score,
        -- people (pseudonyms only)
        t.caller_phone_pseudonym as caller_pseudonym,
        t.updated_at,
        -- lineage: the delivery of the staged version (the fact's high-water mark)
        t._delivery_seq
    from categorised as t
    left join links as l
        on t.ticket_id = l.record_id
)

select * from final
