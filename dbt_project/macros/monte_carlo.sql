{#-
    Helpers of the safety-index uncertainty analysis (a Monte Carlo over construction
    choices), written in plain SQL so that the models port to Spark with the rest of
    the project: the draws come from a number spine and a hash, not from a table
    written by Python.
-#}

{#- Integers 1..n as column `n` (a cross join of digit tables: portable, no range()). -#}
{% macro number_spine(n) -%}
    {%- set digits = (n | string) | length -%}
    select n
    from (
        select
            1
            {%- for i in range(digits) %}
            + d{{ i }}.digit * {{ 10 ** i }}
            {%- endfor %} as n
        from
            {%- for i in range(digits) %}
            (
                select 0 as digit union all select 1 union all select 2 union all select 3
                union all select 4 union all select 5 union all select 6 union all select 7
                union all select 8 union all select 9
            ) as d{{ i }}{{ "," if not loop.last }}
            {%- endfor %}
    ) as spine
    where n <= {{ n }}
{%- endmacro %}

{#-
    A reproducible pseudo-random number in [0, 1) from a text key (the same key always
    gives the same number). Engines hash differently, so the stream differs between
    DuckDB and Spark, but each is uniform and stable from one build to the next.
-#}
{% macro uniform_from_key(key) -%}
    {{ return(adapter.dispatch('uniform_from_key', 'pingan')(key)) }}
{%- endmacro %}
{% macro default__uniform_from_key(key) -%}
    ((hash({{ key }}) % 1000003) / 1000003.0)
{%- endmacro %}
{% macro spark__uniform_from_key(key) -%}
    (pmod(hash({{ key }}), 1000003) / 1000003.0)
{%- endmacro %}

{#- One of `options` (a list of strings) picked by a uniform number `u` in [0, 1). -#}
{% macro pick_option(u, options) -%}
    {%- if options | length == 1 -%}
    '{{ options[0] }}'
    {%- else -%}
    case
        {%- for option in options %}
        {%- if not loop.last %}
        when {{ u }} < {{ loop.index / (options | length) }} then '{{ option }}'
        {%- else %}
        else '{{ option }}'
        {%- endif %}
        {%- endfor %}
    end
    {%- endif -%}
{%- endmacro %}
