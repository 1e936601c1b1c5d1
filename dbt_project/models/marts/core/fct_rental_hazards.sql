-- One row per record: the linked rental_hazards of int_rental_hazards, published.
with

final as (
    select * from {{ ref('int_rental_hazards') }}
)

select * from final
