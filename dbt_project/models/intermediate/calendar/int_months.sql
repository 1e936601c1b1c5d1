-- The months of the data (dim_month publishes them; intermediate models read this).
{{ config(materialized='view') }}
-- Months from the first to the last month with activity in any system.
with

activity as (
    select * from {{ ref('int_activity_dates') }}
),

bounds as (
    select
        min(month_start) as first_month,
        max(month_start) as last_month
    from activity
),

series as (
    {{ dbt.generate_series(600) }}
),

months as (
    select
        cast({{ dbt.dateadd('month', 'series.generated_number - 1', 'bounds.first_month') }} as date)
            as month_start,
        bounds.last_month
    from bounds
    cross join series
),

final as (
    select
        month_start,
        {{ month_text('month_start') }} as month,
        {{ dbt.concat([
            "cast(extract(year from month_start) as varchar)", "'年'",
            "cast(extract(month from month_start) as varchar)", "'月'"
        ]) }} as month_label,
        cast(extract(year from month_start) as integer) as year,
        cast(extract(quarter from month_start) as integer) as quarter,
        cast(extract(month from month_start) as integer) as month_of_year,
        cast({{ dbt.dateadd('month', '-1', 'month_start') }} as date) as previous_month_start,
        cast({{ dbt.dateadd('month', '-12', 'month_start') }} as date) as same_month_last_year_start,
        month_start = last_month as is_latest
    from months
    where month_start <= last_month
)

select * from final
