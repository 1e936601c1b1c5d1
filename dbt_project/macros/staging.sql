{#-
    Staging for one raw table, driven by the meta that ingest/dbt_sources.py generates
    from the entity contracts (so no entity's columns are spelled out here):

    - the newest version of each key: highest version column (when the entity has one),
      ties broken by the later delivery (_delivery_seq), then the later row (_row_number);
    - enumerations cleaned: trimmed, values outside the contract become NULL (ingest has
      already recorded them in raw.row_warnings and the source test out_of_contract_share
      measures their share on raw, where they are still visible);
    - the lineage columns that say where the winning version came from.

    Incremental (the generated model sets materialized='incremental' with delete+insert on
    the key when every key column is required, see ingest/dbt_sources.py): the model's own
    highest _delivery_seq is its high-water mark. Raw is append-only and every delivery gets
    a higher _delivery_seq than all before it (ingest/load.py), so the keys with a raw row
    above the mark are exactly the keys a delivery since the last build touched; all their
    versions, old ones included, are ranked again (a late delivery of an older version
    must not win), and delete+insert replaces those keys' rows. Keys with a NULL part could
    never be matched by delete+insert's `in`, so such entities stay full tables.
-#}
{% macro staging_newest(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set found = namespace(node=none) -%}
    {%- if execute -%}
        {%- for s in graph.sources.values() -%}
            {%- if s.source_name == source_name and s.name == table_name -%}
                {%- set found.node = s -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set node = found.node -%}
    {%- if node is none -%}
        {#- parse time: only the dependency matters -#}
        select * from {{ relation }}
    {%- else -%}
        {%- set meta = node.meta -%}
        {%- set order_by = [] -%}
        {%- if meta.version_column -%}
            {%- do order_by.append(adapter.quote(meta.version_column) ~ ' desc nulls last') -%}
        {%- endif -%}
        {%- do order_by.append('_delivery_seq desc') -%}
        {%- do order_by.append('_row_number desc') -%}
        {%- set keys = [] -%}
        {%- for k in meta.key -%}{%- do keys.append(adapter.quote(k)) -%}{%- endfor -%}
select
{%- for col in node.columns.values() if not col.meta.get('lineage') %}
    {% if col.meta.get('values') -%}
    case
        when trim({{ adapter.quote(col.name) }}) in ({% for v in col.meta['values'] %}'{{ v }}'{{ ", " if not loop.last }}{% endfor %})
            then trim({{ adapter.quote(col.name) }})
    end as {{ adapter.quote(col.name) }},
    {%- else -%}
    {{ adapter.quote(col.name) }},
    {%- endif -%}
{%- endfor %}
    -- lineage of the winning version
    _file_sha256,
    _delivery_seq,
    _row_number,
    _ingested_at
from {{ relation }} as versions
-- the winning version of each key, found on the narrow lineage columns first (a
-- delivery and a row of it identify one raw row), then joined back: much cheaper than
-- carrying every column through the window
inner join (
    select
        _delivery_seq as winner_delivery_seq,
        _row_number as winner_row_number
    from (
        select
            _delivery_seq,
            _row_number,
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by {{ order_by | join(', ') }}
            ) as _version_rank
        from {{ relation }} as candidates
        {%- if is_incremental() %}
        -- incremental: every version of the keys delivered since the high-water mark
        {{ _changed_keys_filter(relation, keys, 'candidates') }}
        {%- endif %}
    ) as ranked
    where _version_rank = 1
) as winners
    on versions._delivery_seq = winners.winner_delivery_seq
    and versions._row_number = winners.winner_row_number
    {%- endif -%}
{%- endmacro %}


{#- `where` clause: the rows of `alias` whose key has a raw row delivered after the
    model's high-water mark (the highest _delivery_seq among its rows). -#}
{% macro _changed_keys_filter(relation, keys, alias) -%}
where exists (
    select 1
    from {{ relation }} as delivered
    where delivered._delivery_seq > (select coalesce(max(_delivery_seq), -1) from {{ this }})
    {%- for k in keys %}
        and delivered.{{ k }} = {{ alias }}.{{ k }}
    {%- endfor %}
)
{%- endmacro %}
