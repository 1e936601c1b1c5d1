-- One row per record: the linked police_incidents of int_police_incidents, published.
with

final as (
    select * from {{ ref('int_police_incidents') }}
)

select * from final
