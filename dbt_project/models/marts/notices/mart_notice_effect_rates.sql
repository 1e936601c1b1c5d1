-- The share of notified indicators back within their expected range one and two months
-- after the notice, by district and indicator, with all-indicator and whole-city rows
-- (district 全市, indicator_code/indicator_name 全部). Only judged indicators count.
with

effect as (
    select * from {{ ref('mart_notice_effect') }}
),

grouped as (
    select
        coalesce(district, '全市') as district,
        coalesce(indicator_code, '全部') as indicator_code,
        coalesce(indicator_name, '全部') as indicator_name,
        count(*) as notified,
        count(is_back_in_range_1m) as judged_1m,
        cast(sum(case when is_back_in_range_1m then 1 else 0 end) as integer) as back_1m,
        count(is_back_in_range_2m) as judged_2m,
        cast(sum(case when is_back_in_range_2m then 1 else 0 end) as integer) as back_2m
    from effect
    group by grouping sets (
        (district, indicator_code, indicator_name),
        (district),
        (indicator_code, indicator_name),
        ()
    )
),

final as (
    select
        {{ dbt.concat(['district', "'|'", 'indicator_code']) }} as rate_id,
        district,
        indicator_code,
        indicator_name,
        notified,
        judged_1m,
        back_1m,
        {{ safe_divide('1.0 * back_1m', 'judged_1m') }} as back_rate_1m,
        judged_2m,
        back_2m,
        {{ safe_divide('1.0 * back_2m', 'judged_2m') }} as back_rate_2m
    from grouped
)

select * from final
