{#-
    Small engine-specific expressions behind adapter.dispatch, so that the models stay
    portable: another engine (Spark, Trino) only needs a `<adapter>__<macro>` override.
    The defaults are written for DuckDB (and mostly hold for Spark and Trino too).
-#}

{#- First capture group of `pattern` in `expr` ('' when no match). -#}
{% macro regex_extract(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_extract', 'pingan')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regex_extract(expr, pattern) -%}
    regexp_extract({{ expr }}, '{{ pattern }}', 1)
{%- endmacro %}

{#- Replace every match of `pattern` in `expr`. -#}
{% macro regex_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'pingan')(expr, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{#-
    Edit similarity 0..1 of two strings: 1 - Levenshtein distance / longer length
    (used by fuzzy address linkage). Unlike Jaro-Winkler it does not punish a typo in
    the first character more than one later on, and two different road names (two or
    more edits) stay clearly below one typo.
-#}
{% macro string_similarity(a, b) -%}
    {{ return(adapter.dispatch('string_similarity', 'pingan')(a, b)) }}
{%- endmacro %}
{% macro default__string_similarity(a, b) -%}
    (1.0 - levenshtein({{ a }}, {{ b }}) * 1.0 / greatest(length({{ a }}), length({{ b }}), 1))
{%- endmacro %}

{#- First day of the month of a timestamp or date, as DATE. -#}
{% macro month_start(expr) -%}
    cast({{ dbt.date_trunc('month', expr) }} as date)
{%- endmacro %}

{#- Hours between two timestamps, fractional. -#}
{% macro hours_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'second') }} / 3600.0)
{%- endmacro %}

{#- 'YYYY-MM' text of a DATE. -#}
{% macro month_text(expr) -%}
    {{ return(adapter.dispatch('month_text', 'pingan')(expr)) }}
{%- endmacro %}
{% macro default__month_text(expr) -%}
    strftime({{ expr }}, '%Y-%m')
{%- endmacro %}

{#- Median of a numeric expression (aggregate). -#}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'pingan')(expr)) }}
{%- endmacro %}
{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{#- Safe division: NULL when the denominator is 0 or NULL. -#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }}) * 1.0 / nullif({{ denominator }}, 0)
{%- endmacro %}

{#- The reference date of "recent" windows: var as_of_date, else the given expression. -#}
{% macro as_of_date(fallback_expr) -%}
    {%- if var('as_of_date', '') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        cast({{ fallback_expr }} as date)
    {%- endif -%}
{%- endmacro %}
