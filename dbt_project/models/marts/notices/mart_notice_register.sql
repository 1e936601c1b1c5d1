-- The notices (提示单) the warehouse issues: one per unit (district or street) and month
-- with at least one worsening alert. This is the ONE place a notice's number is defined;
-- the documents, mart_notices and mart_notice_effect read it.
-- Number: `<prefix>〔YYYY〕第N号`, N = month of the year x var notice_number_block + the
-- unit's place in the region registry (districts, then streets, by region key). It
-- depends only on the unit and the month, not on which other notices exist, so a
-- corrected re-export that adds or drops an alert elsewhere never renumbers a notice
-- already sent (a plain running number would), and the OA feedback can quote it.
with

alerts as (
    select * from {{ ref('mart_alerts') }}
    where is_worsening
),

regions as (
    select * from {{ ref('dim_region') }}
    where region_level in ('district', 'street')
),

unit_numbers as (
    select
        region_key,
        row_number() over (order by region_level, region_key) as unit_seq
    from regions
),

per_unit_month as (
    select
        month_start,
        month,
        region_level,
        region_key,
        region_name,
        district,
        street,
        count(*) as alert_count,
        cast(sum(case when severity = '高' then 1 else 0 end) as integer) as high_alert_count,
        string_agg(indicator_name, '、' order by indicator_code) as indicator_names
    from alerts
    group by 1, 2, 3, 4, 5, 6, 7
),

numbered as (
    select
        a.*,
        cast(extract(year from a.month_start) as integer) as notice_year,
        cast(extract(month from a.month_start) as integer) * {{ var('notice_number_block') }}
            + u.unit_seq as notice_seq,
        {{ dbt.dateadd(
            'hour',
            (var('notice_issue_day') - 1) * 24 + var('notice_issue_hour'),
            "cast(" ~ dbt.dateadd('month', '1', 'a.month_start') ~ " as timestamp)"
        ) }} as issued_at
    from per_unit_month as a
    inner join unit_numbers as u
        on a.region_key = u.region_key
),

final as (
    select
        {{ dbt.concat([
            "'" ~ var('notice_number_prefix') ~ "'", "'〔'", "cast(notice_year as varchar)",
            "'〕第'", "cast(notice_seq as varchar)", "'号'"
        ]) }} as notice_id,
        notice_year,
        notice_seq,
        month_start,
        month,
        region_level,
        region_key,
        region_name,
        district,
        street,
        alert_count,
        high_alert_count,
        indicator_names,
        issued_at,
        {{ dbt.dateadd('day', var('notice_due_days'), 'issued_at') }} as due_at
    from numbered
)

select * from final
