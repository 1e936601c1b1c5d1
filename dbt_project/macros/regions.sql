{#-
    Readable region keys built from names (never invented codes):
    district `崇川区`, street `崇川区/和平桥街道`, community `崇川区/和平桥街道/xx社区`.
    The key of a record's region: its street when known, else its district, else NULL.
-#}
{% macro region_key(district, street=none, community=none) -%}
    case
        {%- if community is not none %}
        when {{ district }} is not null and {{ street }} is not null and {{ community }} is not null
            then {{ dbt.concat([district, "'/'", street, "'/'", community]) }}
        {%- endif %}
        {%- if street is not none %}
        when {{ district }} is not null and {{ street }} is not null
            then {{ dbt.concat([district, "'/'", street]) }}
        {%- endif %}
        when {{ district }} is not null then {{ district }}
    end
{%- endmacro %}
