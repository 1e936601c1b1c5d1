{#-
    Notice statuses, declared once in contracts/entities.py (NOTICE_STATUSES) and carried
    into dbt by the generated source of centre_notice_feedback (meta.values of `status`),
    in workflow order: issued, signed, reported, closed, returned.
    `notice_status('closed')` renders the quoted label ('已销号').
-#}
{% macro notice_statuses() -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.source_name == 'centre' and node.name == 'centre_notice_feedback' -%}
                {%- do found.extend(node.columns['status'].meta['values']) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if found | length != 5 -%}
            {{ exceptions.raise_compiler_error(
                "notice statuses: expected 5 values in the centre_notice_feedback source's "
                ~ "status meta (contracts/entities.py NOTICE_STATUSES), found " ~ found
            ) }}
        {%- endif -%}
    {%- else -%}
        {%- do found.extend(['issued', 'signed', 'reported', 'closed', 'returned']) -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}

{% macro notice_status(role) -%}
    {%- set roles = ['issued', 'signed', 'reported', 'closed', 'returned'] -%}
    {%- if role not in roles -%}
        {{ exceptions.raise_compiler_error("notice_status: unknown role " ~ role) }}
    {%- endif -%}
    '{{ notice_statuses()[roles.index(role)] }}'
{%- endmacro %}
