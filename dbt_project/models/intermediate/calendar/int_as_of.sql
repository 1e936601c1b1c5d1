-- The reference date of the "recent" windows (one row): var as_of_date when set, else
-- the date of the latest activity in the data.
with

activity as (
    select * from {{ ref('int_activity_dates') }}
),

latest as (
    select max(last_at) as last_activity_at from activity
),

final as (
    select
        {{ as_of_date('coalesce(last_activity_at, current_date)') }} as as_of_date,
        last_activity_at
    from latest
)

select * from final
