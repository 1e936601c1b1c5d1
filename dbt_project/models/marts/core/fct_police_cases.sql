-- One row per record: the linked police_cases of int_police_cases, published.
with

final as (
    select * from {{ ref('int_police_cases') }}
)

select * from final
