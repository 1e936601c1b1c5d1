-- Each dwelling's factor contributions under the current lead model (source leads):
-- coefficient x intensity (log-odds), beside the prior's weight x intensity (points),
-- with the Chinese reason each would give. mart_group_rental_scores sums them and
-- takes the largest as the lead's reasons; the lead detail page lists them.
with

terms as (
    select * from {{ ref('int_group_rental_terms') }}
),

current_model as (
    select * from {{ source('leads', 'group_rental_models') }}
    where is_current
),

model_terms as (
    select t.*
    from {{ source('leads', 'group_rental_model_terms') }} as t
    inner join current_model as m on t.model_version = m.model_version
),

contributions as (
    select
        t.house_id,
        t.factor_code,
        t.factor_name,
        t.shown_value,
        t.is_rule,
        t.crosses_threshold,
        t.intensity,
        t.prior_weight * t.intensity as prior_contribution,
        coalesce(mt.coefficient, 0) * t.intensity as contribution,
        -- the standardised term, for the model's uncertainty about this dwelling
        (t.intensity - mt.feature_mean) / nullif(mt.feature_std, 0) as z_value,
        replace(
            replace(
                t.reason_template,
                '{value}',
                case
                    when t.shown_value = round(t.shown_value)
                        then cast(cast(round(t.shown_value) as bigint) as varchar)
                    else cast(round(t.shown_value, 1) as varchar)
                end
            ),
            '{threshold}',
            case
                when t.threshold = round(t.threshold)
                    then cast(cast(round(t.threshold) as bigint) as varchar)
                else cast(t.threshold as varchar)
            end
        ) as reason
    from terms as t
    left join model_terms as mt
        on t.factor_code = mt.factor_code
),

final as (
    select
        {{ dbt.concat(["house_id", "'|'", "factor_code"]) }} as contribution_id,
        *
    from contributions
)

select * from final
