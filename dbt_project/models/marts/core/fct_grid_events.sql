-- One row per record: the linked grid_events of int_grid_events, published.
with

final as (
    select * from {{ ref('int_grid_events') }}
)

select * from final
