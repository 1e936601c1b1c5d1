-- OA feedback that quotes a notice number the warehouse never issued (typed by hand, or
-- a mistyped year or number): counted and listed for the data-quality page, never
-- applied to another notice.
with

feedback as (
    select * from {{ ref('fct_notice_feedback') }}
),

final as (
    select
        feedback_id,
        quoted_notice_id,
        unit,
        status,
        signed_at,
        reported_at,
        updated_at,
        _file_sha256,
        _row_number,
        case
            when quoted_notice_id is null or trim(quoted_notice_id) = '' then '未填写提示单编号'
            else '提示单编号不存在（未下发过该编号）'
        end as reason
    from feedback
    where not is_matched
)

select * from final
