-- Planted truth of address linkage (synthetic sample only; no rows without truth).
with

truth as (
    {{ read_truth_csv('address_links.csv', ['entity', 'record_id', 'house_id']) }}
),

final as (
    select distinct
        entity,
        record_id,
        house_id
    from truth
    where record_id is not null
)

select * from final
