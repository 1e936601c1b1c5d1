-- How well records are linked to dwellings, per entity (and `all`) and link method.
--   link_rate  = linked records / records with an address or house id
-- On the synthetic sample, whose truth lists every record that is about a registered
-- dwelling (records not listed are about no dwelling):
--   precision  = correctly linked / linked
--   recall     = correctly linked / records the truth places at a dwelling
-- Precision and recall are NULL when no truth is present (real data).
with

links as (
    select * from {{ ref('int_address_links') }}
    where address_norm is not null or house_id_given is not null
),

truth as (
    select * from {{ ref('stg_truth__address_links') }}
),

truth_present as (
    select count(*) > 0 as has_truth from truth
),

judged as (
    select
        l.entity,
        l.link_method,
        l.house_id,
        t.house_id as true_house_id
    from links as l
    left join truth as t
        on l.entity = t.entity
        and l.record_id = t.record_id
),

expanded as (
    select entity, link_method, house_id, true_house_id from judged
    union all
    select entity, 'all', house_id, true_house_id from judged
    union all
    select 'all', link_method, house_id, true_house_id from judged
    union all
    select 'all', 'all', house_id, true_house_id from judged
),

counted as (
    select
        entity,
        link_method,
        count(*) as records,
        sum(case when house_id is not null then 1 else 0 end) as linked,
        sum(case when house_id is not null and house_id = true_house_id then 1 else 0 end)
            as linked_correctly,
        sum(case when true_house_id is not null then 1 else 0 end) as truly_at_dwelling
    from expanded
    group by 1, 2
),

final as (
    select
        c.entity,
        c.link_method,
        c.records,
        c.linked,
        c.linked_correctly,
        c.truly_at_dwelling,
        {{ safe_divide('c.linked', 'c.records') }} as link_rate,
        case
            when tp.has_truth then {{ safe_divide('c.linked_correctly', 'c.linked') }}
        end as precision,
        case
            when tp.has_truth then {{ safe_divide('c.linked_correctly', 'c.truly_at_dwelling') }}
        end as recall
    from counted as c
    cross join truth_present as tp
)

select * from final
