-- One row per record: the linked floating_population of int_floating_population, published.
with

final as (
    select * from {{ ref('int_floating_population') }}
)

select * from final
