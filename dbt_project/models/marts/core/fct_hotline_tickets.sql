-- One row per record: the linked hotline_tickets of int_hotline_tickets, published.
with

final as (
    select * from {{ ref('int_hotline_tickets') }}
)

select * from final
