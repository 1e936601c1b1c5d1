-- OA feedback rows (newest version of each feedback record) matched to the notices the
-- warehouse issued. Numbers are typed in the OA, so they are matched on their year and
-- number, whatever the brackets, spaces or prefix (`平安提示〔2026〕第11003号`,
-- `平安提示[2026]11003号`); a number that matches no issued notice is kept, unmatched
-- (listed by mart_notice_feedback_unmatched). A receiving unit may be written with or
-- without its district (`崇川区和平桥街道` / `和平桥街道`).
with

feedback as (
    select * from {{ ref('stg_centre__notice_feedback') }}
),

register as (
    select * from {{ ref('mart_notice_register') }}
),

parsed as (
    select
        *,
        try_cast({{ regex_extract('notice_id', '((?:19|20)[0-9]{2})') }} as integer)
            as quoted_year,
        -- the first number after the year: 第11003号, 11003号, -11003
        try_cast({{ regex_extract('notice_id', '(?:19|20)[0-9]{2}[^0-9]+([0-9]+)') }} as integer)
            as quoted_seq,
        {{ regex_replace_all('unit', '\\s', '') }} as unit_clean
    from feedback
),

final as (
    select
        f.feedback_id,
        f.notice_id as quoted_notice_id,
        r.notice_id,
        f.unit,
        f.status,
        f.signed_at,
        f.reported_at,
        f.measures,
        f.updated_at,
        f._delivery_seq,
        f._file_sha256,
        f._row_number,
        r.notice_id is not null as is_matched,
        coalesce(
            f.unit_clean = r.region_name
            or f.unit_clean = {{ dbt.concat(['r.district', 'r.region_name']) }}
            or f.unit_clean = {{ dbt.concat(['r.district', "'/'", 'r.region_name']) }},
            false
        ) as is_unit_matched,
        coalesce(least(f.signed_at, f.reported_at, f.updated_at) < r.issued_at, false)
            as is_before_issue
    from parsed as f
    left join register as r
        on f.quoted_year = r.notice_year
        and f.quoted_seq = r.notice_seq
)

select * from final
