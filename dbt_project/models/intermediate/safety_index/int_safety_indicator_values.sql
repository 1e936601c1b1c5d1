-- Raw values of the safety-index indicators: one row per unit (district, street) x
-- month x indicator, with how the value was obtained:
--   observed         computed from the month's data (a count of 0 is observed only when
--                    the source system delivered records that month);
--   inherited        a district-only indicator (department report, survey) on a street row;
--   carried_forward  a quarterly survey value carried into later months
--                    (at most var index_carry_forward_months);
--   unattributed     computed from records, but too few of the records that belong to
--                    the unit could be placed in a unit of its level (attribution_coverage
--                    below var index_min_attribution_coverage): a count that misses most
--                    of its records is not an observed low value, so it is treated as
--                    missing (no value, weight redistributed);
--   missing          no value: the weight is redistributed (see mart_safety_index).
-- base_count is what the value rests on: the number of events of a per-10k rate, the
-- hazards due of the rectification rate, the respondents of the survey.
-- attribution_coverage (record-based indicators only, else null) is the estimated share
-- of the unit's records of the month that the warehouse could place in it:
--   district: the share of the city's records placed in a known district (the others
--             cannot be told apart, so every district gets the same share);
--   street:   its district's share times the share of the district's records placed in
--             a known street of that district.
with

streets as (
    select * from {{ ref('int_streets') }}
),

months as (
    select * from {{ ref('int_months') }}
),

indicators as (
    select * from {{ ref('safety_indicators') }}
),

activity as (
    select * from {{ ref('int_activity_dates') }}
),

cases as (
    select * from {{ ref('int_police_cases') }}
),

incidents as (
    select * from {{ ref('int_police_incidents') }}
),

tickets as (
    select * from {{ ref('int_hotline_tickets') }}
),

events as (
    select * from {{ ref('int_grid_events') }}
),

hazards as (
    select * from {{ ref('int_rental_hazards') }}
),

reference_indicators as (
    select * from {{ ref('stg_reference__indicators') }}
),

survey as (
    select * from {{ ref('stg_reference__safety_survey') }}
),

units as (
    select
        'street' as region_level,
        {{ region_key('district', 'street') }} as region_key,
        street as region_name,
        district,
        street,
        population
    from streets

    union all

    select
        'district' as region_level,
        district as region_key,
        district as region_name,
        district,
        cast(null as varchar) as street,
        sum(population) as population
    from streets
    group by district
),

-- events counted by indicators computed from records: (numerator, denominator)
record_events as (
    select 'criminal_cases_per_10k' as indicator_code, district, street,
        case_month as month_start, 1 as numerator, 0 as denominator
    from cases
    where case_class = '刑事案件'

    union all

    select 'public_order_cases_per_10k', district, street, case_month, 1, 0
    from cases
    where case_class = '治安案件'

    union all

    select 'incidents_110_per_10k', district, street, reported_month, 1, 0
    from incidents

    union all

    select 'security_complaints_per_10k', district, street, received_month, 1, 0
    from tickets
    where is_security_complaint
        and coalesce(request_type, '投诉') in ('投诉', '举报')
        and not is_cancelled

    union all

    select 'grid_disputes_per_10k', district, street, reported_month, 1, 0
    from events
    where category = '矛盾纠纷'
        and not is_returned

    union all

    select 'hazard_rectification_rate', district, street, due_month,
        case when is_fixed then 1 else 0 end, 1
    from hazards
),

counts as (
    select
        'street' as region_level,
        {{ region_key('district', 'street') }} as region_key,
        indicator_code,
        month_start,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from record_events
    where district is not null and street is not null
    group by 1, 2, 3, 4

    union all

    select
        'district' as region_level,
        district as region_key,
        indicator_code,
        month_start,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from record_events
    where district is not null
    group by 1, 2, 3, 4
),

-- where each record of the month could be placed: a known district, a known street
placed as (
    select
        e.indicator_code,
        e.month_start,
        d.region_key as district_key,
        s.region_key as street_key
    from record_events as e
    left join units as d
        on d.region_level = 'district'
        and e.district = d.district
    left join units as s
        on s.region_level = 'street'
        and e.district = s.district
        and e.street = s.street
),

district_attribution as (
    select
        indicator_code,
        month_start,
        count(district_key) * 1.0 / count(*) as district_coverage
    from placed
    group by 1, 2
),

street_attribution as (
    select
        indicator_code,
        month_start,
        district_key,
        count(street_key) * 1.0 / count(*) as street_share
    from placed
    where district_key is not null
    group by 1, 2, 3
),

-- months in which each source system delivered anything at all
covered as (
    select distinct
        entity as source,
        month_start
    from activity
),

grid_values as (
    select
        u.region_level,
        u.region_key,
        u.region_name,
        u.district,
        u.street,
        u.population,
        m.month_start,
        m.year,
        m.quarter,
        i.indicator_code,
        i.source,
        i.district_only,
        i.reference_code
    from units as u
    cross join months as m
    cross join indicators as i
),

from_records as (
    select
        g.region_level,
        g.region_key,
        g.month_start,
        g.indicator_code,
        case
            when c.source is null then null
            when g.indicator_code = 'hazard_rectification_rate'
                then {{ safe_divide('100.0 * n.numerator', 'n.denominator') }}
            when g.population > 0
                then coalesce(n.numerator, 0) * 10000.0 / g.population
        end as raw_value,
        case
            when c.source is null then null
            when g.indicator_code = 'hazard_rectification_rate' then n.denominator
            else coalesce(n.numerator, 0)
        end as base_count,
        cast(null as varchar) as forced_status,
        -- no record of the month at all: nothing was left unplaced
        case
            when c.source is not null then
                coalesce(da.district_coverage, 1.0)
                * case
                    when g.region_level = 'street' then coalesce(sa.street_share, 1.0)
                    else 1.0
                end
        end as attribution_coverage
    from grid_values as g
    left join covered as c
        on g.source = c.source
        and g.month_start = c.month_start
    left join counts as n
        on g.region_level = n.region_level
        and g.region_key = n.region_key
        and g.indicator_code = n.indicator_code
        and g.month_start = n.month_start
    left join district_attribution as da
        on g.indicator_code = da.indicator_code
        and g.month_start = da.month_start
    left join street_attribution as sa
        on g.indicator_code = sa.indicator_code
        and g.month_start = sa.month_start
        and g.district = sa.district_key
    where g.source not in ('reference_indicators', 'reference_safety_survey')
),

from_records_checked as (
    -- a value resting on too small a share of its records is not published
    select
        region_level,
        region_key,
        month_start,
        indicator_code,
        case
            when attribution_coverage >= {{ var('index_min_attribution_coverage') }}
                then raw_value
        end as raw_value,
        base_count,
        case
            when raw_value is not null
                and attribution_coverage < {{ var('index_min_attribution_coverage') }}
                then 'unattributed'
        end as forced_status,
        attribution_coverage
    from from_records
),

reported as (
    -- department-reported district values (street left empty), per 10,000 residents
    select
        trim(r.district) as district,
        cast(r.month || '-01' as date) as month_start,
        r.indicator_code as reference_code,
        sum(r.value) as value
    from reference_indicators as r
    where nullif(trim(r.street), '') is null
        and r.value is not null
    group by 1, 2, 3
),

from_reports as (
    select
        g.region_level,
        g.region_key,
        g.month_start,
        g.indicator_code,
        case
            when d.population > 0 then r.value * 10000.0 / d.population
        end as raw_value,
        r.value as base_count,
        case
            when r.value is not null and g.region_level = 'street' then 'inherited'
        end as forced_status,
        cast(null as double) as attribution_coverage
    from grid_values as g
    left join units as d
        on d.region_level = 'district'
        and g.district = d.district
    left join reported as r
        on g.district = r.district
        and g.month_start = r.month_start
        and g.reference_code = r.reference_code
    where g.source = 'reference_indicators'
),

survey_quarters as (
    select
        trim(district) as district,
        cast({{ dbt.concat([
            "cast(year as varchar)", "'-'",
            "lpad(cast(quarter * 3 - 2 as varchar), 2, '0')", "'-01'"
        ]) }} as date) as quarter_start,
        safety_pct,
        sample_size
    from survey
    where safety_pct is not null
),

survey_matches as (
    select
        g.region_level,
        g.region_key,
        g.month_start,
        g.indicator_code,
        s.safety_pct,
        s.sample_size,
        {{ dbt.datediff('s.quarter_start', 'g.month_start', 'month') }} as months_after_start,
        row_number() over (
            partition by g.region_level, g.region_key, g.month_start
            order by s.quarter_start desc
        ) as recency
    from grid_values as g
    inner join survey_quarters as s
        on g.district = s.district
        and s.quarter_start <= g.month_start
    where g.source = 'reference_safety_survey'
),

from_survey as (
    select
        g.region_level,
        g.region_key,
        g.month_start,
        g.indicator_code,
        case
            when s.months_after_start <= 2 + {{ var('index_carry_forward_months') }}
                then s.safety_pct
        end as raw_value,
        case
            when s.months_after_start <= 2 + {{ var('index_carry_forward_months') }}
                then s.sample_size
        end as base_count,
        case
            when s.months_after_start > 2
                and s.months_after_start <= 2 + {{ var('index_carry_forward_months') }}
                then 'carried_forward'
            when s.months_after_start <= 2 and g.region_level = 'street' then 'inherited'
        end as forced_status,
        cast(null as double) as attribution_coverage
    from grid_values as g
    left join survey_matches as s
        on g.region_level = s.region_level
        and g.region_key = s.region_key
        and g.month_start = s.month_start
        and s.recency = 1
    where g.source = 'reference_safety_survey'
),

unioned as (
    select * from from_records_checked
    union all
    select * from from_reports
    union all
    select * from from_survey
),

final as (
    select
        g.region_level,
        g.region_key,
        g.region_name,
        g.district,
        g.street,
        g.population,
        g.month_start,
        g.indicator_code,
        v.raw_value,
        case when v.raw_value is not null then v.base_count end as base_count,
        case
            when v.forced_status = 'unattributed' then 'unattributed'
            when v.raw_value is null then 'missing'
            else coalesce(v.forced_status, 'observed')
        end as value_status,
        v.attribution_coverage
    from grid_values as g
    inner join unioned as v
        on g.region_level = v.region_level
        and g.region_key = v.region_key
        and g.month_start = v.month_start
        and g.indicator_code = v.indicator_code
)

select * from final
