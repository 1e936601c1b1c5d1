-- Police checks the lead model cannot learn from as they stand, listed for the
-- data-quality page rather than dropped: the dwelling is unknown (no registered
-- dwelling matches its house id or address), or the lead id it quotes was never issued.
with

checks as (
    select * from {{ ref('fct_rental_checks') }}
),

dwellings as (
    select * from {{ ref('int_dwellings') }}
),

scores as (
    select * from {{ ref('mart_group_rental_scores') }}
),

flagged as (
    select
        c.check_id,
        c.lead_id,
        c.house_id,
        c.checked_at,
        c.verdict,
        c.address,
        c.district,
        c.unit,
        case
            when d.house_id is null then '房屋未登记或地址无法匹配'
            when c.lead_id is not null and s.lead_id is null then '线索编号不存在'
        end as problem
    from checks as c
    left join dwellings as d on c.house_id = d.house_id
    left join scores as s on c.lead_id = s.lead_id
),

final as (
    select * from flagged
    where problem is not null
)

select * from final
