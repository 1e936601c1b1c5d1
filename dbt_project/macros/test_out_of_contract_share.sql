{#-
    The share of a raw column's delivered values that lie outside the contract's
    enumeration, measured on the raw table, before staging turns them into NULL (after
    which no value test could see them).

    Returns one row per out-of-contract value with its count. Any such value warns
    (failure level 1); when they make up more than `max_share` of the delivered values
    (default: var out_of_contract_max_share) the test errors (level 2): a source that
    renamed a status or a channel would otherwise leave most of a column NULL.
    Values are compared trimmed, as staging_newest compares them.
-#}
{% test out_of_contract_share(model, column_name, values, max_share=none) %}
{{ config(fail_calc="coalesce(max(failure_level), 0)", warn_if=">0", error_if=">1") }}
{%- set tolerated = var('out_of_contract_max_share') if max_share is none else max_share -%}
{%- set column = adapter.quote(column_name) -%}
with delivered as (
    select
        trim({{ column }}) as value
    from {{ model }}
    where {{ column }} is not null
),

outside as (
    select
        value,
        count(*) as occurrences
    from delivered
    where value not in ({% for v in values %}'{{ v }}'{{ ", " if not loop.last }}{% endfor %})
    group by value
),

totals as (
    select
        (select count(*) from delivered) as delivered_values,
        (select coalesce(sum(occurrences), 0) from outside) as outside_values
),

final as (
    select
        outside.value,
        outside.occurrences,
        totals.outside_values,
        totals.delivered_values,
        {{ tolerated }} as max_share,
        case
            when totals.outside_values > {{ tolerated }} * totals.delivered_values then 2
            else 1
        end as failure_level
    from outside
    cross join totals
)

select * from final
{% endtest %}
