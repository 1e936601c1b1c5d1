-- Statistical anomaly of each dwelling's occupancy relative to similar dwellings: the
-- other registered dwellings of its street (its district when the street has fewer than
-- 10). For occupants per room, occupants per 10 ㎡ and recent floating registrations, a
-- robust z-score (x - median) / (1.4826 x MAD), the MAD floored so that a street where
-- nearly every dwelling has the same value does not turn a small difference into a
-- huge score. The anomaly value is the mean of the positive z-scores (each capped at 10).
with

features as (
    select * from {{ ref('int_dwelling_features') }}
),

long_features as (
    select house_id, district, street, 'occupants_per_room' as feature,
        occupants_per_room as value, 0.5 as mad_floor
    from features
    union all
    select house_id, district, street, 'occupants_per_10m2',
        {{ safe_divide('10.0 * occupants_estimate', 'floor_area_m2') }}, 0.3
    from features
    union all
    select house_id, district, street, 'floating_registrations_90d',
        cast(floating_registrations_90d as double), 1.0
    from features
),

peer_sizes as (
    select
        district,
        street,
        count(*) as dwellings
    from features
    group by 1, 2
),

grouped as (
    select
        l.*,
        case
            when p.dwellings >= 10 then {{ dbt.concat(["l.district", "'/'", "l.street"]) }}
            else l.district
        end as peer_group
    from long_features as l
    left join peer_sizes as p
        on l.district is not distinct from p.district
        and l.street is not distinct from p.street
    where l.value is not null
),

medians as (
    select
        peer_group,
        feature,
        {{ median('value') }} as median_value
    from grouped
    group by 1, 2
),

deviations as (
    select
        g.*,
        m.median_value,
        abs(g.value - m.median_value) as abs_deviation
    from grouped as g
    inner join medians as m
        on g.peer_group is not distinct from m.peer_group
        and g.feature = m.feature
),

mads as (
    select
        peer_group,
        feature,
        {{ median('abs_deviation') }} as mad
    from deviations
    group by 1, 2
),

scored as (
    select
        d.house_id,
        d.feature,
        least(
            greatest(
                (d.value - d.median_value) / greatest(1.4826 * m.mad, d.mad_floor),
                0
            ),
            10
        ) as positive_z
    from deviations as d
    inner join mads as m
        on d.peer_group is not distinct from m.peer_group
        and d.feature = m.feature
),

final as (
    select
        house_id,
        avg(positive_z) as anomaly_z,
        max(case when feature = 'occupants_per_room' then positive_z end) as z_occupants_per_room,
        max(case when feature = 'occupants_per_10m2' then positive_z end) as z_occupants_per_10m2,
        max(case when feature = 'floating_registrations_90d' then positive_z end)
            as z_floating_registrations_90d
    from scored
    group by house_id
)

select * from final
