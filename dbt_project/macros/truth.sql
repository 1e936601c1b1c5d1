{#-
    Planted truth of the synthetic sample lives in CSV files under var('truth_dir').
    Real deployments have no truth: the evaluation models must then build with no rows,
    so the file's existence is checked at run time (DuckDB's glob() lists matching
    files, none when absent) and the model reads it only when it is there.
-#}
{% macro truth_file(name) -%}
    {%- set dir = var('truth_dir', '') -%}
    {%- if not dir or not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set path = dir.rstrip('/') ~ '/' ~ name -%}
    {%- set found = run_query("select count(*) from glob('" ~ path | replace("'", "''") ~ "')") -%}
    {%- if found.rows[0][0] > 0 -%}
        {{ return(path) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- A select of `columns` (all VARCHAR) from the truth CSV `name`, or no rows. -#}
{% macro read_truth_csv(name, columns) -%}
    {%- set path = truth_file(name) -%}
    {%- if path -%}
    select
        {%- for c in columns %}
        nullif(trim(cast({{ c }} as varchar)), '') as {{ c }}{{ "," if not loop.last }}
        {%- endfor %}
    from read_csv('{{ path | replace("'", "''") }}', header = true, all_varchar = true)
    {%- else -%}
    select
        {%- for c in columns %}
        cast(null as varchar) as {{ c }}{{ "," if not loop.last }}
        {%- endfor %}
    where 1 = 0
    {%- endif -%}
{%- endmacro %}
