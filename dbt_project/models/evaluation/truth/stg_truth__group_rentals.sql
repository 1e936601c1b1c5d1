-- Planted group-rental truth (synthetic sample only; no rows without truth).
with

truth as (
    {{ read_truth_csv('group_rental_truth.csv', ['house_id', 'label', 'kind']) }}
),

final as (
    select
        house_id,
        min(label) as label,
        min(kind) as kind
    from truth
    where house_id is not null
    group by house_id
)

select * from final
