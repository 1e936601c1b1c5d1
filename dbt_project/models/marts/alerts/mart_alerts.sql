-- 提示单: the unit-months and indicators whose value left what the count model expects,
-- beyond chance after false-discovery control (int_alert_tests): one row per alert,
-- with the expected value and range, the tail probability, the q-value, the rule that
-- fired and the evidence in Chinese. Thresholds: vars alert_* and seeds alert_models,
-- alert_rules.
with

tests as (
    select * from {{ ref('int_alert_tests') }}
),

series as (
    select * from {{ ref('int_alert_series') }}
),

months as (
    select * from {{ ref('dim_month') }}
),

rules as (
    select * from {{ ref('alert_rules') }}
),

level_averages as (
    -- the mean value of the level's units that month (districts, or streets)
    select
        region_level,
        indicator_code,
        month_number,
        avg(raw_value) as level_average
    from series
    group by 1, 2, 3
),

alerts as (
    select * from tests
    where q_value <= {{ var('alert_fdr_q') }}
        and is_material
),

ranged as (
    -- the expected range of the "bad" count: a prediction interval of
    -- var alert_range_z standard deviations on the square-root scale (asymmetric,
    -- never below 0), then in the indicator's unit
    select
        a.*,
        case
            when a.count_model = 'binomial'
                then a.variance * (a.trials / a.trials_effective) * (a.trials / a.trials_effective)
            else a.variance
        end as bad_variance
    from alerts as a
),

bounds as (
    select
        *,
        power(greatest(0.0, sqrt(expected_bad)
            - {{ var('alert_range_z') }} * sqrt(bad_variance) / (2 * sqrt(expected_bad))), 2)
            as bad_low,
        power(sqrt(expected_bad)
            + {{ var('alert_range_z') }} * sqrt(bad_variance) / (2 * sqrt(expected_bad)), 2)
            as bad_high
    from ranged
),

valued as (
    select
        b.*,
        case
            when b.count_model = 'binomial' and b.direction = 'positive'
                then 100.0 * (1 - b.expected_share)
            when b.count_model = 'binomial' then 100.0 * b.expected_share
            else b.expected_count * 10000.0 / b.population
        end as expected_value,
        case
            when b.count_model = 'binomial' and b.direction = 'positive'
                then 100.0 * (1 - least(b.bad_high, b.trials) / b.trials)
            when b.count_model = 'binomial' then 100.0 * b.bad_low / b.trials
            else b.bad_low * 10000.0 / b.population
        end as expected_low,
        case
            when b.count_model = 'binomial' and b.direction = 'positive'
                then 100.0 * (1 - b.bad_low / b.trials)
            when b.count_model = 'binomial' then 100.0 * least(b.bad_high, b.trials) / b.trials
            else b.bad_high * 10000.0 / b.population
        end as expected_high,
        p.raw_value as previous_value,
        y.raw_value as last_year_value,
        l.level_average,
        m.month_label,
        r.rule_name,
        -- the tail probability of the rule that fired, before multiplicity corrections
        case b.rule_code
            when 'jump' then b.p_up
            when 'persist' then b.p_persist
            else b.p_down
        end as rule_tail
    from bounds as b
    inner join months as m
        on b.month_start = m.month_start
    inner join rules as r
        on b.rule_code = r.rule_code
    left join series as p
        on b.region_key = p.region_key
        and b.indicator_code = p.indicator_code
        and p.month_number = b.month_number
            - case when b.cadence = 'quarterly' then 3 else 1 end
    left join series as y
        on b.region_key = y.region_key
        and b.indicator_code = y.indicator_code
        and y.month_number = b.month_number - 12
    left join level_averages as l
        on b.region_level = l.region_level
        and b.indicator_code = l.indicator_code
        and b.month_number = l.month_number
),

final as (
    select
        {{ dbt.concat(["region_key", "'|'", month_text('month_start'), "'|'", "indicator_code"]) }}
            as alert_id,
        month_start,
        {{ month_text('month_start') }} as month,
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
        raw_value - previous_value as change_abs,
        case
            when previous_value <> 0 then (raw_value - previous_value) / abs(previous_value)
        end as change_pct,
        expected_value,
        expected_low,
        expected_high,
        history_mean_value as baseline_mean,
        last_year_value,
        level_average,
        p_value,
        q_value,
        rule_name as rule,
        is_worsening,
        case
            when is_worsening
                and (q_value <= {{ var('alert_high_q') }} or bad_count >= 2 * expected_bad)
                then '高'
            when is_worsening then '中'
            else '低'
        end as severity,
        {{ dbt.concat([
            "coalesce(district, '')",
            "coalesce(street, '')",
            "month_label",
            "indicator_name",
            "'为'", "cast(round(raw_value, 2) as varchar)", "unit",
            "case when previous_value is not null then "
                ~ dbt.concat([
                    "case when cadence = 'quarterly' then '，较上季度' else '，较上月' end",
                    "case when raw_value >= previous_value then '上升' else '下降' end",
                    "case when previous_value <> 0 "
                        ~ "then cast(round(abs(raw_value - previous_value) / abs(previous_value) * 100, 1) as varchar) || '%' "
                        ~ "else cast(round(abs(raw_value - previous_value), 2) as varchar) || unit end",
                ]) ~ " else '' end",
            "case when raw_value > expected_high then '，高于预期范围' "
                ~ "when raw_value < expected_low then '，低于预期范围' "
                ~ "else '，在预期范围内但近几个月持续偏离预期（预期范围' end",
            "case when raw_value between expected_low and expected_high then '' else '（' end",
            "cast(round(expected_low, 2) as varchar)", "'–'",
            "cast(round(expected_high, 2) as varchar)", "unit", "'）'",
            "case when is_worsening then '，请关注' else '，情况好转' end"
        ]) }} as message,
        {{ dbt.concat([
            "'按近'", "cast(history_points as varchar)",
            "case when cadence = 'quarterly' then '个季度' else '个月' end",
            "case when count_model = 'negative_binomial' and abs(season_factor - 1) >= 0.05 "
                ~ "then '同期水平（季节系数' || cast(round(season_factor, 2) as varchar) || '）' else '水平' end",
            "'推算，预期'", "cast(round(expected_value, 2) as varchar)", "unit",
            "'，正常范围'", "cast(round(expected_low, 2) as varchar)", "'–'",
            "cast(round(expected_high, 2) as varchar)", "unit",
            "'；实际'", "cast(round(raw_value, 2) as varchar)", "unit",
            "case when count_model = 'binomial' "
                ~ "then '（' || cast(cast(round(trials, 0) as integer) as varchar) || "
                ~ "case when indicator_code = 'hazard_rectification_rate' then '处到期隐患中' else '名受访者中' end"
                ~ " || cast(cast(round(bad_count, 0) as integer) as varchar) || "
                ~ "case when indicator_code = 'hazard_rectification_rate' then '处未整改）' else '人未感安全）' end "
                ~ "else '（' || cast(cast(round(bad_count, 0) as integer) as varchar) || '起，预期' || cast(round(expected_bad, 1) as varchar) || '起）' end",
            "case when rule_code = 'persist' "
                ~ "then '；近' || cast(ewma_months as varchar) || '个月（近期权重更高）累计高于预期约' || cast(round(ewma_score, 1) as varchar) || '个标准差' "
                ~ "else '' end",
            "'；偶然出现的概率约'",
            "case when rule_tail < 0.0001 then '不足万分之一' "
                ~ "else cast(round(rule_tail * 100, 2) as varchar) || '%' end",
            "'（本月'", "cast(month_tests as varchar)", "'项检验校正后q='",
            "case when q_value < 0.0001 then '<0.0001' else cast(round(q_value, 4) as varchar) end",
            "'）'"
        ]) }} as evidence
    from valued
)

select * from final
