-- One row per record: the linked rental_checks of int_rental_checks, published.
with

final as (
    select * from {{ ref('int_rental_checks') }}
)

select * from final
