-- How well records are linked to dwellings, per entity and link method: link rate, and
-- on the synthetic sample (where the truth is known) precision and recall.
--   link_rate  = linked records / records with an address or house id
--   precision  = correctly linked / linked records the truth lists
--   recall     = correctly linked / records the truth places at a dwelling
with

links as (
    select * from {{ ref('int_address_links') }}
    where address_norm is not null or house_id_given is not null
),

truth as (
    select * from {{ ref('stg_truth__address_links') }}
),

judged as (
    select
        l.entity,
        l.link_method,
        l.house_id,
        t.record_id is not null as in_truth,
        t.house_id as true_house_id
    from links as l
    left join truth as t
        on l.entity = t.entity
        and l.record_id = t.record_id
),

methods as (
    select entity, link_method from judged
    union
    select entity, 'all' from judged
),

final as (
    select
        m.entity,
        m.link_method,
        count(j.entity) as records,
        sum(case when j.house_id is not null then 1 else 0 end) as linked,
        sum(case when j.in_truth then 1 else 0 end) as in_truth,
        sum(case when j.in_truth and j.house_id is not null then 1 else 0 end) as linked_in_truth,
        sum(case when j.house_id is not null and j.house_id = j.true_house_id then 1 else 0 end)
            as linked_correctly,
        sum(case when j.true_house_id is not null then 1 else 0 end) as truly_at_dwelling,
        {{ safe_divide(
            'sum(case when j.house_id is not null then 1 else 0 end)', 'count(j.entity)'
        ) }} as link_rate,
        {{ safe_divide(
            'sum(case when j.house_id is not null and j.house_id = j.true_house_id then 1 else 0 end)',
            'sum(case when j.in_truth and j.house_id is not null then 1 else 0 end)'
        ) }} as precision,
        {{ safe_divide(
            'sum(case when j.house_id is not null and j.house_id = j.true_house_id then 1 else 0 end)',
            'sum(case when j.true_house_id is not null then 1 else 0 end)'
        ) }} as recall
    from methods as m
    inner join judged as j
        on m.entity = j.entity
        and (m.link_method = 'all' or m.link_method = j.link_method)
    group by 1, 2
)

select * from final
