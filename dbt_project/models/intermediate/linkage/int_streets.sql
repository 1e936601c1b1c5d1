-- The street-level region reference: every (district, street) named by the grid master
-- or by the statistics bureau's resident population, with the latest population.
with

grids as (
    select * from {{ ref('stg_grid__grids') }}
),

population as (
    select * from {{ ref('stg_reference__population') }}
),

grid_streets as (
    select
        trim(district) as district,
        trim(street) as street,
        count(*) as grid_count,
        sum(households) as households,
        sum(population) as grid_population
    from grids
    where nullif(trim(district), '') is not null
        and nullif(trim(street), '') is not null
    group by 1, 2
),

latest_population as (
    select
        trim(district) as district,
        trim(street) as street,
        year as population_year,
        population,
        row_number() over (
            partition by trim(district), trim(street)
            order by year desc
        ) as recency
    from population
    where nullif(trim(street), '') is not null
        and population is not null
),

reference_streets as (
    select
        district,
        street,
        population_year,
        population
    from latest_population
    where recency = 1
),

final as (
    select
        coalesce(g.district, r.district) as district,
        coalesce(g.street, r.street) as street,
        coalesce(g.grid_count, 0) as grid_count,
        g.households,
        g.grid_population,
        r.population as reference_population,
        r.population_year,
        -- residents: the statistics bureau first, the grid master as fallback
        coalesce(r.population, g.grid_population) as population
    from grid_streets as g
    full outer join reference_streets as r
        on g.district = r.district
        and g.street = r.street
)

select * from final
