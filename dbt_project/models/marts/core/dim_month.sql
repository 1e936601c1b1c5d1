-- One row per month with data: the calendar of int_months, published.
with

final as (
    select * from {{ ref('int_months') }}
)

select * from final
