{#- Rows where `expression` is false (or, with aggregate=true, the table when it is false). -#}
{% test expression_is_true(model, expression, aggregate=false) %}
{% if aggregate %}
select 1 as failing
from {{ model }}
having not ({{ expression }})
{% else %}
select *
from {{ model }}
where not ({{ expression }})
{% endif %}
{% endtest %}
