-- City > district > street > community > grid, from the grid master and the resident
-- population reference.
with

streets as (
    select * from {{ ref('int_streets') }}
),

grids as (
    select * from {{ ref('stg_grid__grids') }}
),

clean_grids as (
    select
        grid_code,
        coalesce(nullif(trim(grid_name), ''), grid_code) as grid_name,
        nullif(trim(district), '') as district,
        nullif(trim(street), '') as street,
        nullif(trim(community), '') as community,
        households,
        population
    from grids
),

city as (
    select
        '全市' as region_key,
        'city' as region_level,
        '全市' as region_name,
        cast(null as varchar) as parent_key,
        cast(null as varchar) as district,
        cast(null as varchar) as street,
        cast(null as varchar) as community,
        cast(null as varchar) as grid_code,
        sum(population) as population,
        max(population_year) as population_year,
        sum(households) as households,
        sum(grid_count) as grid_count
    from streets
),

districts as (
    select
        district as region_key,
        'district' as region_level,
        district as region_name,
        '全市' as parent_key,
        district,
        cast(null as varchar) as street,
        cast(null as varchar) as community,
        cast(null as varchar) as grid_code,
        sum(population) as population,
        max(population_year) as population_year,
        sum(households) as households,
        sum(grid_count) as grid_count
    from streets
    group by district
),

street_rows as (
    select
        {{ region_key('district', 'street') }} as region_key,
        'street' as region_level,
        street as region_name,
        district as parent_key,
        district,
        street,
        cast(null as varchar) as community,
        cast(null as varchar) as grid_code,
        population,
        population_year,
        households,
        grid_count
    from streets
),

communities as (
    select
        {{ region_key('district', 'street', 'community') }} as region_key,
        'community' as region_level,
        community as region_name,
        {{ region_key('district', 'street') }} as parent_key,
        district,
        street,
        community,
        cast(null as varchar) as grid_code,
        sum(population) as population,
        cast(null as bigint) as population_year,
        sum(households) as households,
        count(*) as grid_count
    from clean_grids
    where district is not null and street is not null and community is not null
    group by district, street, community
),

grid_rows as (
    select
        grid_code as region_key,
        'grid' as region_level,
        grid_name as region_name,
        {{ region_key('district', 'street', 'community') }} as parent_key,
        district,
        street,
        community,
        grid_code,
        population,
        cast(null as bigint) as population_year,
        households,
        1 as grid_count
    from clean_grids
),

final as (
    select * from city
    union all
    select * from districts
    union all
    select * from street_rows
    union all
    select * from communities
    union all
    select * from grid_rows
)

select * from final
