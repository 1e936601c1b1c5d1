{#-
    Tail probabilities of the alert count models, in plain SQL.

    Neither DuckDB nor Spark SQL has a Poisson, negative-binomial or binomial CDF
    (nor lgamma in Spark, which exact sums of the pmf would need), so the tails are
    computed through their exact relation to the F distribution and Paulson's
    cube-root normal approximation of the F CDF (the Wilson-Hilferty idea):
      negative binomial (mean mu, variance mu + alpha mu^2):
        P(Y >= y) = P(F(2y, 2/alpha) <= mu / y)             (Poisson: alpha = 0)
      binomial (n, p):
        P(X >= x) = P(F(2x, 2(n - x + 1)) <= (n - x + 1) p / (x (1 - p)))
    Unlike a normal approximation with continuity correction, this stays close to
    the exact tail for counts of a handful (mu = 1, y = 6: 0.00077 against the exact
    0.00059; mu = 3, alpha = 0.1, y = 11: 0.0021 against 0.0020), and it is slightly
    conservative there. The normal tail uses Abramowitz & Stegun 26.2.17 (absolute
    error < 7.5e-8). Only exp, sqrt and power are used: portable as written.
-#}

{#- P(Z >= z) of a standard normal. -#}
{% macro normal_upper_tail(z) -%}
    case
        when {{ z }} >= 0 then {{ _normal_tail_pos(z) }}
        else 1 - {{ _normal_tail_pos('(-(' ~ z ~ '))') }}
    end
{%- endmacro %}

{% macro _normal_tail_pos(a) -%}
    (exp(-({{ a }}) * ({{ a }}) / 2) * 0.3989422804014327
        * (1 / (1 + 0.2316419 * ({{ a }})))
        * (0.319381530 + (1 / (1 + 0.2316419 * ({{ a }})))
            * (-0.356563782 + (1 / (1 + 0.2316419 * ({{ a }})))
                * (1.781477937 + (1 / (1 + 0.2316419 * ({{ a }})))
                    * (-1.821255978 + (1 / (1 + 0.2316419 * ({{ a }}))) * 1.330274429)))))
{%- endmacro %}

{#-
    Paulson's normal score of P(F(d1, d2) <= f), given 1/d1 and 1/d2 (so that an
    infinite d2, the Poisson case, is 0): P(F <= f) ~ Phi(score).
-#}
{% macro paulson_score(f, inv_d1, inv_d2) -%}
    (((1 - 2.0 / 9 * ({{ inv_d2 }})) * power({{ f }}, 1.0 / 3) - (1 - 2.0 / 9 * ({{ inv_d1 }})))
        / sqrt(2.0 / 9 * ({{ inv_d1 }}) + power({{ f }}, 2.0 / 3) * 2.0 / 9 * ({{ inv_d2 }})))
{%- endmacro %}

{#- Normal score s of the upper tail of a negative binomial: P(Y >= y) ~ P(Z >= s), y > 0. -#}
{% macro nb_upper_score(y, mu, alpha) -%}
    (-{{ paulson_score('(' ~ mu ~ ') / (' ~ y ~ ')', '1.0 / (2 * (' ~ y ~ '))', '(' ~ alpha ~ ') / 2') }})
{%- endmacro %}

{#- Normal score of the upper tail of a binomial: P(X >= x) ~ P(Z >= s), 0 < x <= n. -#}
{% macro binomial_upper_score(x, n, p) -%}
    (-{{ paulson_score(
        '((' ~ n ~ ') - (' ~ x ~ ') + 1) * (' ~ p ~ ') / ((' ~ x ~ ') * (1 - (' ~ p ~ ')))',
        '1.0 / (2 * (' ~ x ~ '))',
        '1.0 / (2 * ((' ~ n ~ ') - (' ~ x ~ ') + 1))'
    ) }})
{%- endmacro %}

{#- The q-quantile of a numeric expression (aggregate); Spark: percentile_approx. -#}
{% macro alert_quantile(expr, q) -%}
    {{ return(adapter.dispatch('alert_quantile', 'pingan')(expr, q)) }}
{%- endmacro %}
{% macro default__alert_quantile(expr, q) -%}
    percentile_cont({{ q }}) within group (order by {{ expr }})
{%- endmacro %}
{% macro spark__alert_quantile(expr, q) -%}
    percentile_approx({{ expr }}, {{ q }})
{%- endmacro %}

{#-
    The weight of a unit's own seasonal factor (its same calendar month in other years:
    ``mean_events`` expected events over ``months`` months) against the level's pooled
    factor, which counts as ``pooled_events`` events. What the own months say is their
    events, capped by the year-to-year overdispersion ``alpha`` (the relative variance of
    their sum is 1 / events + alpha / months): 0 where there are none.
-#}
{% macro alert_own_season_weight(mean_events, months, alpha, pooled_events) -%}
    case
        when ({{ months }}) > 0 and ({{ mean_events }}) > 0 then
            (1.0 / (1.0 / ({{ mean_events }}) + ({{ alpha }}) / ({{ months }})))
            / (1.0 / (1.0 / ({{ mean_events }}) + ({{ alpha }}) / ({{ months }}))
                + ({{ pooled_events }}))
        else 0.0
    end
{%- endmacro %}

{#-
    A unit's seasonal factor: its own factor (``own_count`` events of the same calendar
    month in other years, against ``own_mean_events`` expected) with weight ``weight``,
    the level's ``pooled_factor`` with the rest; the pooled factor alone at weight 0.
-#}
{% macro alert_season_blend(weight, own_count, own_mean_events, pooled_factor) -%}
    case
        when ({{ weight }}) > 0
            then ({{ weight }}) * ({{ own_count }}) / ({{ own_mean_events }})
                + (1 - ({{ weight }})) * ({{ pooled_factor }})
        else {{ pooled_factor }}
    end
{%- endmacro %}
