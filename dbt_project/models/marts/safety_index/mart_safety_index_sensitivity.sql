-- Which construction choice moves the ranks most (JRC/OECD handbook, sensitivity
-- analysis), per level and month. For each draw, the rank shift is the mean over the
-- ranked units of |draw rank - published rank|. For each choice:
--   mean_abs_rank_shift  the mean shift of the draws that took each option;
--   first_order_index    Var(E[shift | option]) / Var(shift): the share of the shift's
--                        variance explained by that choice alone (a binned first-order
--                        Sobol index; the weights, a continuous choice, are binned into
--                        quintiles of how far each draw's weights moved from the seed's).
-- choice_rank 1 is the choice that moves ranks most.
with

draw_ranks as (
    select * from {{ ref('mart_safety_index_draw_ranks') }}
),

point as (
    select * from {{ ref('mart_safety_index') }}
),

draws as (
    select * from {{ ref('int_safety_index_mc_draws') }}
),

draw_choices as (
    select distinct
        draw_id,
        normalisation,
        aggregation,
        survey_option,
        weight_shift
    from draws
),

binned as (
    select
        *,
        ntile(5) over (order by weight_shift, draw_id) as weight_quintile
    from draw_choices
),

shifts as (
    select
        r.draw_id,
        r.month_start,
        r.region_level,
        avg(abs(r.draw_rank - p.rank)) as rank_shift
    from draw_ranks as r
    inner join point as p
        on r.index_id = p.index_id
    where r.draw_rank is not null
        and p.rank is not null
    group by 1, 2, 3
),

options as (
    select
        s.month_start,
        s.region_level,
        s.rank_shift,
        'weights' as choice,
        {{ dbt.concat(["'Q'", "cast(b.weight_quintile as varchar)"]) }} as option
    from shifts as s
    inner join binned as b on s.draw_id = b.draw_id

    union all

    select s.month_start, s.region_level, s.rank_shift, 'normalisation', b.normalisation
    from shifts as s
    inner join binned as b on s.draw_id = b.draw_id

    union all

    select s.month_start, s.region_level, s.rank_shift, 'aggregation', b.aggregation
    from shifts as s
    inner join binned as b on s.draw_id = b.draw_id

    union all

    select s.month_start, s.region_level, s.rank_shift, 'survey_carry_forward', b.survey_option
    from shifts as s
    inner join binned as b on s.draw_id = b.draw_id
),

overall as (
    select
        month_start,
        region_level,
        avg(rank_shift) as mean_shift,
        var_pop(rank_shift) as var_shift,
        count(*) as n_draws
    from shifts
    group by 1, 2
),

by_option as (
    select
        month_start,
        region_level,
        choice,
        option,
        count(*) as draws,
        avg(rank_shift) as mean_abs_rank_shift
    from options
    group by 1, 2, 3, 4
),

by_choice as (
    select
        b.month_start,
        b.region_level,
        b.choice,
        case
            when o.var_shift > 0 then sum(
                b.draws * (b.mean_abs_rank_shift - o.mean_shift) * (b.mean_abs_rank_shift - o.mean_shift)
            ) / o.n_draws / o.var_shift
        end as first_order_index
    from by_option as b
    inner join overall as o
        on b.month_start = o.month_start
        and b.region_level = o.region_level
    group by b.month_start, b.region_level, b.choice, o.var_shift, o.n_draws
),

labels as (
    select 'weights' as choice, '指标权重' as choice_name
    union all select 'normalisation', '标准化方法'
    union all select 'aggregation', '合成方法'
    union all select 'survey_carry_forward', '公众安全感沿用上期'
),

option_labels as (
    select 'minmax' as option, '极差标准化' as option_name
    union all select 'zscore', 'Z分数标准化'
    union all select 'rank', '排序百分位'
    union all select 'arithmetic', '加权算术平均'
    union all select 'geometric', '加权几何平均'
    union all select 'carry_forward', '沿用上期调查值'
    union all select 'no_carry_forward', '不沿用（按缺失处理）'
),

final as (
    select
        {{ dbt.concat([
            month_text('b.month_start'), "'|'", "b.region_level", "'|'", "b.choice", "'|'",
            "b.option"
        ]) }} as sensitivity_id,
        b.month_start,
        {{ month_text('b.month_start') }} as month,
        b.region_level,
        b.choice,
        l.choice_name,
        b.option,
        coalesce(ol.option_name, {{ dbt.concat(["'权重偏离第'", "substr(b.option, 2)", "'档'"]) }})
            as option_name,
        b.draws,
        b.mean_abs_rank_shift,
        c.first_order_index,
        dense_rank() over (
            partition by b.month_start, b.region_level
            order by round(coalesce(c.first_order_index, 0), 9) desc, b.choice
        ) as choice_rank
    from by_option as b
    inner join by_choice as c
        on b.month_start = c.month_start
        and b.region_level = c.region_level
        and b.choice = c.choice
    inner join labels as l
        on b.choice = l.choice
    left join option_labels as ol
        on b.option = ol.option
)

select * from final
