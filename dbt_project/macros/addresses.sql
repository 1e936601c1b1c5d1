{#-
    What an address's parse in int_addresses depends on besides its text, as one hash:
    the model's own code (dbt's checksum of its file: a change to the parse must reach
    every address) and the region reference's distinct (district, street) names, in
    order. One value over the rows of ``streets`` (a relation or CTE with district and
    street columns).
-#}
{% macro address_parse_fingerprint(streets) -%}
    {{ dbt.hash(dbt.concat([
        "'" ~ model.checksum.checksum ~ "'",
        "'|'",
        dbt.listagg(
            dbt.concat(["coalesce(district, '')", "'|'", "coalesce(street, '')"]),
            "','",
            "order by district, street"
        )
    ])) }}
{%- endmacro %}


{#-
    int_addresses' post-hook: after an incremental build, the addresses that no record
    (int_address_records) and no registry house (stg_rental__houses) names any more are
    deleted, as a full refresh would not have them. A full build has none to delete.
-#}
{% macro delete_unnamed_addresses() -%}
    {%- if is_incremental() -%}
delete from {{ this }} as kept
where not exists (
    select 1 from {{ ref('int_address_records') }} as r
    where r.address_norm = kept.address_norm
)
and not exists (
    select 1 from {{ ref('stg_rental__houses') }} as h
    where nullif(trim(h.address_norm), '') = kept.address_norm
)
    {%- endif -%}
{%- endmacro %}
