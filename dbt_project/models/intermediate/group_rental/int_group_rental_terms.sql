-- The terms of the group-rental lead model, one row per registered dwelling and factor
-- (seed group_rental_factors): the shown value, the value the factor compares (counts
-- on a log scale, ln(1 + n), so that a dozen complaints from one quarrelsome neighbour
-- weigh little more than three), and the intensity x = clip((value - threshold) / scale,
-- 0, 1). The prior score is sum(weight x x); the learned model's log-odds are
-- intercept + sum(coefficient x x) (seeds -> training -> leads.group_rental_model_terms).
with

features as (
    select * from {{ ref('int_dwelling_features') }}
),

anomaly as (
    select * from {{ ref('int_dwelling_anomaly') }}
),

factors as (
    select * from {{ ref('group_rental_factors') }}
),

long_values as (
    -- shown_value: what a reason quotes; value: what the threshold applies to
    {% set ratios = ['occupants_per_10m2', 'occupants_per_room', 'area_per_person_m2'] %}
    {% set counts = [
        'occupants_estimate', 'floating_registrations_365d',
        'group_rental_complaints_365d', 'noise_complaints_365d', 'fire_safety_complaints_365d',
        'grid_rental_events_365d', 'police_incidents_365d', 'hazards_found', 'open_hazards',
        'unrelated_complaints_365d'
    ] %}
    select
        house_id,
        'corroborating_sources' as factor_code,
        cast(corroborating_sources as double) as shown_value,
        cast(corroborating_sources as double) as value
    from features
    {% for column in ratios %}
    union all
    select house_id, '{{ column }}', cast({{ column }} as double), cast({{ column }} as double)
    from features
    {% endfor %}
    {% for column in counts %}
    union all
    select house_id, '{{ column }}', cast({{ column }} as double), ln(1 + {{ column }})
    from features
    {% endfor %}
    union all
    -- churn compared per room, ln(1 + deregistrations / rooms): a group rental's tenants
    -- come and go by the dozen through a few rooms, while a staff dormitory's or student
    -- flat's dozen registrations spread over many rooms and long stays; a plain count
    -- saturated at 3 and could not tell 24 moves in a 2-room flat from 4 in a dormitory
    select
        house_id,
        'floating_deregistrations_365d',
        cast(floating_deregistrations_365d as double),
        ln(1 + floating_deregistrations_365d / greatest(coalesce(rooms, 1), 1))
    from features
    union all
    select f.house_id, 'anomaly', coalesce(a.anomaly_z, 0), coalesce(a.anomaly_z, 0)
    from features as f
    left join anomaly as a on f.house_id = a.house_id
),

final as (
    select
        v.house_id,
        v.factor_code,
        fa.factor_name,
        fa.weight as prior_weight,
        fa.is_rule,
        fa.threshold,
        fa.comparison,
        fa.reason_template,
        v.shown_value,
        v.value,
        least(greatest(
            case
                when v.value is null then 0
                when fa.comparison = 'above' then (v.value - fa.threshold) / fa.scale
                else (fa.threshold - v.value) / fa.scale
            end, 0), 1) as intensity,
        coalesce(
            case
                when fa.comparison = 'above' then v.value > fa.threshold
                else v.value < fa.threshold
            end,
            false
        ) as crosses_threshold
    from long_values as v
    inner join factors as fa
        on v.factor_code = fa.factor_code
)

select * from final
