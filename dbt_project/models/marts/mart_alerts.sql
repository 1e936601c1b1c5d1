-- 提示单: indicator values that swing beyond their configured month-over-month threshold
-- or leave their control limits (mean ± 3 sd of the previous 6 months).
-- A swing must also be beyond chance, by at least var alert_min_z standard errors:
-- per-10k rates compare the two months' event counts as Poisson counts
-- (|c1 - c0| / sqrt(c1 + c0)); percentages with a known base (hazards due, survey
-- respondents) use the two-proportion z-test; so that a small street going from 1 case
-- to 2, or 1 of 1 hazards fixed to 0 of 1, does not raise a 100% alert.
with

components as (
    select * from {{ ref('mart_safety_index_components') }}
    -- only values measured for the unit itself, not inherited or carried forward
    where value_status = 'observed'
),

indicators as (
    select * from {{ ref('safety_indicators') }}
),

months as (
    select * from {{ ref('dim_month') }}
),

history as (
    select
        c.region_key,
        c.indicator_code,
        c.month_start,
        avg(h.raw_value) as baseline_mean,
        stddev_samp(h.raw_value) as baseline_sd,
        count(h.raw_value) as baseline_months
    from components as c
    inner join components as h
        on c.region_key = h.region_key
        and c.indicator_code = h.indicator_code
        and h.month_start < c.month_start
        and h.month_start >= cast({{ dbt.dateadd('month', '-6', 'c.month_start') }} as date)
    group by 1, 2, 3
),

compared as (
    select
        c.*,
        m.month_label,
        i.alert_change_pct,
        i.alert_min_value,
        p.raw_value as previous_value,
        p.base_count as previous_base_count,
        c.raw_value - p.raw_value as change_abs,
        case
            when p.raw_value <> 0 then (c.raw_value - p.raw_value) / abs(p.raw_value)
        end as change_pct,
        h.baseline_mean,
        h.baseline_sd,
        h.baseline_months
    from components as c
    inner join months as m
        on c.month_start = m.month_start
    inner join indicators as i
        on c.indicator_code = i.indicator_code
    left join components as p
        on c.region_key = p.region_key
        and c.indicator_code = p.indicator_code
        and p.month_start = m.previous_month_start
    left join history as h
        on c.region_key = h.region_key
        and c.indicator_code = h.indicator_code
        and c.month_start = h.month_start
),

tested as (
    select
        *,
        case
            when unit like '%万人%'
                then abs(base_count - previous_base_count)
                    / nullif(sqrt(base_count + previous_base_count), 0)
            when unit = '%' and base_count > 0 and previous_base_count > 0
                then abs(raw_value - previous_value) / 100.0 / nullif(sqrt(
                    pooled_share * (1 - pooled_share)
                    * (1.0 / base_count + 1.0 / previous_base_count)
                ), 0)
        end as chance_z
    from (
        select
            *,
            (raw_value * base_count + previous_value * previous_base_count)
                / 100.0 / nullif(base_count + previous_base_count, 0) as pooled_share
        from compared
    ) as shares
),

limited as (
    -- the spread used for control limits is floored, so that a series that barely moved
    -- (a quarterly survey repeated over months, a street with 0 or 1 case a month) does
    -- not make every small move an alert: for per-10k rates by the Poisson spread of the
    -- mean count, otherwise by half the configured swing threshold and, for percentages
    -- of a known base, by their binomial spread
    select
        *,
        greatest(
            coalesce(baseline_sd, 0),
            case
                when unit like '%万人%' and population > 0
                    then sqrt(greatest(baseline_mean, 0) * 10000.0 / population)
                else abs(baseline_mean) * alert_change_pct / 2
            end,
            -- a percentage of few cases: its binomial spread
            case
                when unit = '%' and base_count > 0
                    then 100.0 * sqrt(
                        least(greatest(baseline_mean / 100.0, 0), 1)
                        * (1 - least(greatest(baseline_mean / 100.0, 0), 1))
                        / base_count
                    )
                else 0
            end
        ) as sd_floor
    from tested
),

flagged as (
    select
        *,
        coalesce(
            previous_value is not null
            and greatest(raw_value, previous_value) >= alert_min_value
            and (
                abs(change_pct) >= alert_change_pct
                -- from 0 to at least the noise floor counts as a swing too
                or (previous_value = 0 and raw_value > 0)
            )
            and coalesce(chance_z >= {{ var('alert_min_z') }}, true),
            false
        ) as is_swing,
        case
            when baseline_months >= 3 and sd_floor > 0
                then abs(raw_value - baseline_mean) / sd_floor
        end as sigma_distance,
        case
            when direction = 'negative'
                then raw_value > coalesce(previous_value, baseline_mean)
            else raw_value < coalesce(previous_value, baseline_mean)
        end as is_worsening
    from limited
),

alerts as (
    select
        *,
        coalesce(sigma_distance > 3, false) as is_out_of_control
    from flagged
    where is_swing or coalesce(sigma_distance > 3, false)
),

final as (
    select
        {{ dbt.concat(["region_key", "'|'", "month", "'|'", "indicator_code"]) }} as alert_id,
        month_start,
        month,
        region_level,
        region_key,
        region_name,
        district,
        street,
        indicator_code,
        indicator_name,
        unit,
        raw_value as value,
        previous_value,
        change_abs,
        change_pct,
        baseline_mean,
        sd_floor as baseline_sd,
        baseline_mean + 3 * sd_floor as upper_limit,
        baseline_mean - 3 * sd_floor as lower_limit,
        case
            when is_swing and is_out_of_control then '环比波动+超出控制限'
            when is_swing then '环比波动'
            else '超出控制限'
        end as rule,
        coalesce(is_worsening, false) as is_worsening,
        case
            when coalesce(is_worsening, false)
                and (is_out_of_control
                    or coalesce(abs(change_pct) >= 2 * alert_change_pct, false))
                then '高'
            when coalesce(is_worsening, false) then '中'
            else '低'
        end as severity,
        {{ dbt.concat([
            "coalesce(district, '')",
            "case when street is not null then street else '' end",
            "month_label",
            "indicator_name",
            "'为'", "cast(round(raw_value, 2) as varchar)", "unit",
            "case when previous_value is not null then "
                ~ dbt.concat([
                    "'，较上月'",
                    "case when change_abs >= 0 then '上升' else '下降' end",
                    "case when change_pct is not null "
                        ~ "then cast(round(abs(change_pct) * 100, 1) as varchar) || '%' "
                        ~ "else cast(round(abs(change_abs), 2) as varchar) || unit end",
                    "'（上月'", "cast(round(previous_value, 2) as varchar)", "unit", "'）'"
                ]) ~ " else '' end",
            "case when is_out_of_control then "
                ~ dbt.concat([
                    "'，'",
                    "case when raw_value > baseline_mean then '高于' else '低于' end",
                    "'近6个月均值'", "cast(round(baseline_mean, 2) as varchar)", "unit",
                    "'，偏离'", "cast(round(sigma_distance, 1) as varchar)", "'个标准差'"
                ]) ~ " else '' end",
            "case when coalesce(is_worsening, false) then '，请关注' else '，情况好转' end"
        ]) }} as message
    from alerts
)

select * from final
