-- Each notice tracked to closure: its status from the OA feedback (the newest feedback
-- version of the notice wins: by updated_at, then the later delivery), the days spent
-- in each status, and whether it is overdue. Feedback that arrived before the notice was
-- published is kept and applied (the OA's clock and export order are not ours).
-- Days in a status are measured between the milestones the feedback carries (issued,
-- signed, reported, decided), up to the reference time for the current status.
with

register as (
    select * from {{ ref('mart_notice_register') }}
),

feedback as (
    select * from {{ ref('fct_notice_feedback') }}
    where is_matched
),

as_of as (
    select * from {{ ref('int_as_of') }}
),

reference_time as (
    -- the end of the reference day, or the newest feedback if the OA is ahead of it
    select
        greatest(
            cast({{ dbt.dateadd('day', '1', 'a.as_of_date') }} as timestamp),
            coalesce((select max(f.updated_at) from feedback as f), cast(a.as_of_date as timestamp))
        ) as as_of_at
    from as_of as a
),

ranked as (
    select
        *,
        row_number() over (
            partition by notice_id
            order by updated_at desc nulls last, _delivery_seq desc, _row_number desc,
                feedback_id desc
        ) as recency
    from feedback
    where status is not null
),

milestones as (
    select
        notice_id,
        count(*) as feedback_count,
        min(signed_at) as signed_at,
        max(reported_at) as reported_at,
        bool_or(is_before_issue) as has_feedback_before_issue,
        bool_or(not is_unit_matched) as has_other_unit
    from feedback
    group by 1
),

latest as (
    select
        notice_id,
        status,
        updated_at as status_at,
        unit as feedback_unit,
        measures
    from ranked
    where recency = 1
),

joined as (
    select
        r.*,
        coalesce(l.status, {{ notice_status('issued') }}) as status,
        l.status_at,
        l.feedback_unit,
        l.measures,
        coalesce(m.feedback_count, 0) as feedback_count,
        m.signed_at,
        m.reported_at,
        case
            when l.status in ({{ notice_status('closed') }}, {{ notice_status('returned') }})
                then l.status_at
        end as decided_at,
        coalesce(m.has_feedback_before_issue, false) as has_feedback_before_issue,
        coalesce(m.has_other_unit, false) as has_other_unit,
        t.as_of_at
    from register as r
    left join latest as l
        on r.notice_id = l.notice_id
    left join milestones as m
        on r.notice_id = m.notice_id
    cross join reference_time as t
),

days as (
    select
        *,
        -- the end of each status: the next milestone, else the reference time
        coalesce(signed_at, reported_at, decided_at, as_of_at) as issued_until,
        coalesce(reported_at, decided_at, as_of_at) as signed_until,
        coalesce(decided_at, as_of_at) as reported_until,
        case when status = {{ notice_status('closed') }} then decided_at else as_of_at end
            as open_until
    from joined
),

final as (
    select
        notice_id,
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
        due_at,
        status,
        status_at,
        signed_at,
        reported_at,
        decided_at,
        feedback_count,
        feedback_unit,
        measures,
        -- days in each status (0 when the status was skipped or came before the notice)
        greatest({{ hours_between('issued_at', 'issued_until') }}, 0) / 24.0 as days_issued,
        case when signed_at is not null then greatest(
            {{ hours_between('greatest(signed_at, issued_at)', 'signed_until') }}, 0
        ) / 24.0 end as days_signed,
        case when reported_at is not null then greatest(
            {{ hours_between('greatest(reported_at, issued_at)', 'reported_until') }}, 0
        ) / 24.0 end as days_reported,
        case when status = {{ notice_status('returned') }} then greatest(
            {{ hours_between('greatest(decided_at, issued_at)', 'as_of_at') }}, 0
        ) / 24.0 end as days_returned,
        greatest({{ hours_between('issued_at', 'open_until') }}, 0) / 24.0 as days_open,
        -- not answered (or sent back) and past its deadline
        status in (
            {{ notice_status('issued') }},
            {{ notice_status('signed') }},
            {{ notice_status('returned') }}
        ) and as_of_at > due_at as is_overdue,
        coalesce(reported_at > due_at, false) as is_reported_late,
        has_feedback_before_issue,
        has_other_unit,
        as_of_at
    from days
)

select * from final
