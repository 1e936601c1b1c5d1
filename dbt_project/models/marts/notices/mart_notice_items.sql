-- What each notice says per indicator: one row per notice and worsening alert, with the
-- value against last month, the same month last year, the expected range of the alert
-- rule and the average of the units of the same level.
{#- mart_alerts states its expected range as expected_low/expected_high; older builds
    called it lower_limit/upper_limit; take what the built relation has. -#}
{%- set alert_columns = [] -%}
{%- if execute -%}
    {%- set alert_relation = load_relation(ref('mart_alerts')) -%}
    {%- if alert_relation is not none -%}
        {%- for c in adapter.get_columns_in_relation(alert_relation) -%}
            {%- do alert_columns.append(c.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endif -%}
{%- set picked = {} -%}
{%- for name, preferred, fallback, type in [
    ('last_year_value', 'last_year_value', none, 'double'),
    ('level_average', 'level_average', none, 'double'),
    ('expected_low', 'expected_low', 'lower_limit', 'double'),
    ('expected_high', 'expected_high', 'upper_limit', 'double'),
    ('evidence', 'evidence', 'rule', 'varchar'),
] -%}
    {%- if preferred in alert_columns -%}
        {%- do picked.update({name: 'cast(a.' ~ preferred ~ ' as ' ~ type ~ ')'}) -%}
    {%- elif fallback is not none and fallback in alert_columns -%}
        {%- do picked.update({name: 'cast(a.' ~ fallback ~ ' as ' ~ type ~ ')'}) -%}
    {%- else -%}
        {%- do picked.update({name: 'cast(null as ' ~ type ~ ')'}) -%}
    {%- endif -%}
{%- endfor %}
with

register as (
    select * from {{ ref('mart_notice_register') }}
),

alerts as (
    select * from {{ ref('mart_alerts') }}
    where is_worsening
),

components as (
    select * from {{ ref('mart_safety_index_components') }}
),

level_averages as (
    -- average over the units of the level that observed the indicator that month
    select
        region_level,
        indicator_code,
        month_start,
        avg(raw_value) as level_average
    from components
    where value_status = 'observed'
    group by 1, 2, 3
),

final as (
    select
        a.alert_id,
        r.notice_id,
        r.month_start,
        r.month,
        r.region_level,
        r.region_key,
        r.region_name,
        r.district,
        a.indicator_code,
        a.indicator_name,
        a.unit,
        a.severity,
        a.value,
        a.previous_value,
        a.change_abs,
        a.change_pct,
        coalesce({{ picked['last_year_value'] }}, ly.raw_value) as last_year_value,
        coalesce({{ picked['level_average'] }}, la.level_average) as level_average,
        {{ picked['expected_low'] }} as expected_low,
        {{ picked['expected_high'] }} as expected_high,
        {{ picked['evidence'] }} as evidence,
        a.message
    from alerts as a
    inner join register as r
        on a.region_key = r.region_key
        and a.month_start = r.month_start
    left join components as ly
        on a.region_key = ly.region_key
        and a.indicator_code = ly.indicator_code
        and ly.month_start = cast({{ dbt.dateadd('month', '-12', 'a.month_start') }} as date)
        and ly.value_status = 'observed'
    left join level_averages as la
        on a.region_level = la.region_level
        and a.indicator_code = la.indicator_code
        and a.month_start = la.month_start
)

select * from final
