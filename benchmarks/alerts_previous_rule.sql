-- The alert rule of mart_alerts before issue 17, rendered for DuckDB on a built warehouse
-- (refs -> marts.*, var alert_min_z = 2), for comparison in bench_alerts only: a
-- month-over-month swing beyond the seed's alert_change_pct and 2 standard errors, or
-- a value outside mean +- 3 sd of the previous 6 months. Returns the worsening alerts.
with
components as (
    select * from marts.mart_safety_index_components where value_status = 'observed'
),
indicators as (select * from marts.safety_indicators),
months as (select * from marts.dim_month),
history as (
    select c.region_key, c.indicator_code, c.month_start,
        avg(h.raw_value) as baseline_mean, stddev_samp(h.raw_value) as baseline_sd,
        count(h.raw_value) as baseline_months
    from components as c
    inner join components as h
        on c.region_key = h.region_key and c.indicator_code = h.indicator_code
        and h.month_start < c.month_start
        and h.month_start >= cast(c.month_start - interval 6 month as date)
    group by 1, 2, 3
),
compared as (
    select c.*, i.alert_change_pct, i.alert_min_value,
        p.raw_value as previous_value, p.base_count as previous_base_count,
        case when p.raw_value <> 0 then (c.raw_value - p.raw_value) / abs(p.raw_value) end
            as change_pct,
        h.baseline_mean, h.baseline_sd, h.baseline_months
    from components as c
    inner join months as m on c.month_start = m.month_start
    inner join indicators as i on c.indicator_code = i.indicator_code
    left join components as p
        on c.region_key = p.region_key and c.indicator_code = p.indicator_code
        and p.month_start = m.previous_month_start
    left join history as h
        on c.region_key = h.region_key and c.indicator_code = h.indicator_code
        and c.month_start = h.month_start
),
tested as (
    select *,
        case
            when unit like '%万人%'
                then abs(base_count - previous_base_count)
                    / nullif(sqrt(base_count + previous_base_count), 0)
            when unit = '%' and base_count > 0 and previous_base_count > 0
                then abs(raw_value - previous_value) / 100.0 / nullif(sqrt(
                    pooled_share * (1 - pooled_share)
                    * (1.0 / base_count + 1.0 / previous_base_count)), 0)
        end as chance_z
    from (
        select *, (raw_value * base_count + previous_value * previous_base_count)
            / 100.0 / nullif(base_count + previous_base_count, 0) as pooled_share
        from compared
    ) as shares
),
limited as (
    select *,
        greatest(
            coalesce(baseline_sd, 0),
            case
                when unit like '%万人%' and population > 0
                    then sqrt(greatest(baseline_mean, 0) * 10000.0 / population)
                else abs(baseline_mean) * alert_change_pct / 2
            end,
            case
                when unit = '%' and base_count > 0
                    then 100.0 * sqrt(
                        least(greatest(baseline_mean / 100.0, 0), 1)
                        * (1 - least(greatest(baseline_mean / 100.0, 0), 1)) / base_count)
                else 0
            end
        ) as sd_floor
    from tested
),
flagged as (
    select *,
        coalesce(previous_value is not null
            and greatest(raw_value, previous_value) >= alert_min_value
            and (abs(change_pct) >= alert_change_pct or (previous_value = 0 and raw_value > 0))
            and coalesce(chance_z >= 2, true), false) as is_swing,
        case when baseline_months >= 3 and sd_floor > 0
            then abs(raw_value - baseline_mean) / sd_floor end as sigma_distance,
        case when direction = 'negative' then raw_value > coalesce(previous_value, baseline_mean)
            else raw_value < coalesce(previous_value, baseline_mean) end as is_worsening
    from limited
)
select region_key, strftime(month_start, '%Y-%m') as month, indicator_code
from flagged
where (is_swing or coalesce(sigma_distance > 3, false)) and coalesce(is_worsening, false)
