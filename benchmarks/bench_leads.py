"""Group-rental leads across many generated worlds and on the independent city.

No single world is the exam (issue 13). For each of ``--worlds`` worlds (world
numbers ``--first-world`` onwards, seed ``SEED + world``), a sample is generated at
``--scale`` into ``benchmarks/work/leads_<scale>/w<N>`` and ``pingan run`` (the
Dagster job: ingest, dbt build, checks, publish) runs there, as a user runs it.
Then, among the registered dwellings *without a police check* (the checks' true
houses, ``truth/address_links.csv``), the dwellings are ranked by
``marts.mart_group_rental_scores.score`` (the learned model) and by
``prior_score`` (the prior-only model), and precision@k is taken with k = the
planted group rentals without a check. While the mart has no ``prior_score``
column, ``score`` *is* the prior-only model and there is no learned model yet: the
result says so (``learned`` is null).

The independent city ``/work/shared/eval-city`` (written outside Pingan; its
README says how it is measured) gets the same: its ``landing/`` is run through
``pingan run`` and ranked, k = its planted group rentals not in ``checked``.

Reliability: when the mart has a ``probability`` column, the checked dwellings
(conclusive verdicts in ``fct_rental_checks``: 确认群租 against 确认出租 / 非出租)
are binned by predicted probability (0-0.1, ..., 0.9-1); for each bin with at
least 30 dwellings, the mean prediction against the observed confirmation rate.
Per world and pooled across worlds. (These verdicts are the ones the model learns
from: this is in-sample calibration; the model's own time-split backtest is the
out-of-sample one.)

Goal (issue 13): learned model min >= 0.6 and median >= 0.75 across worlds,
>= 0.6 on the independent city; every reliability bin within 0.05.

Results: ``benchmarks/results/leads.json`` (rendered by ``benchmarks.report``).

Usage: python -m benchmarks.bench_leads [--worlds 8] [--first-world 1] [--scale demo]
       [--months 12] [--jobs 1] [--no-eval-city] [--pipeline run|build] [--result leads] [--keep]
       [--reuse [--retrain]]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.common import WORK, write_result

SEED = 20261001
END = "2026-10"
EVAL_CITY = Path(__file__).resolve().parents[1].parent / "shared" / "eval-city"
SCORES = "marts.mart_group_rental_scores"
MIN_PER_BIN = 30
CONCLUSIVE = ("确认群租", "确认出租", "非出租")
# what --retrain rebuilds before training: the model's seeds and the intermediate models
# its terms come from (their inputs, the linked records, are as the kept run left them)
LEAD_FEATURES = (
    "group_rental_model_settings group_rental_factors"
    " int_dwelling_features int_dwelling_anomaly int_group_rental_terms"
)
# Assumptions of each world shown beside its figures (the ones the leads depend on most).
SHOWN = {
    "group_rental": (
        "floating_register_share",
        "complaints_per_year",
        "grid_coverage",
        "overcrowded_share",
    ),
    "registry": ("tenant_error_share", "area_error_sd"),
    "checks": ("lead_share", "occupants_given_share"),
}


def pingan(data_dir: Path, pipeline: str) -> dict[str, Any]:
    """``pingan run`` in ``data_dir`` (a process, as a user runs it), or with ``pipeline``
    ``build``: ``pingan ingest`` of its landing folder then ``pingan build`` (no GX checks,
    no publish, no Dagster-only asset: quicker on a busy machine, and the same marts as
    long as every model is a dbt model)."""
    env = {**os.environ, "PINGAN_DATA_DIR": str(data_dir)}
    env.pop("PINGAN_DB", None)
    steps = [["run"]] if pipeline == "run" else [["ingest", str(data_dir / "landing")], ["build"]]
    start = time.perf_counter()
    out: dict[str, Any] = {"ok": True, "pipeline": pipeline, "summary": []}
    for step in steps:
        proc = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", *step],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        out["summary"] += proc.stdout.strip().splitlines()[-8:]
        if step[0] == "ingest" and proc.returncode == 1:
            out["rejected_files"] = True  # recorded in the ledger; the build goes on
        elif proc.returncode != 0:
            out["ok"] = False
            out["error"] = f"pingan {step[0]}: " + proc.stderr.strip()[-600:]
            break
    out["seconds"] = round(time.perf_counter() - start, 1)
    return out


def columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    schema, name = table.split(".")
    return {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }


def precision_at_k(ranked: list[str], positives: set[str], k: int) -> float | None:
    return round(sum(h in positives for h in ranked[:k]) / k, 4) if k else None


def reliability(pairs: list[tuple[float, int]]) -> list[dict[str, Any]]:
    """(predicted probability, confirmed) of checked dwellings, binned by tenths."""
    bins: dict[int, list[tuple[float, int]]] = {}
    for p, y in pairs:
        bins.setdefault(min(9, max(0, int(p * 10))), []).append((p, y))
    out = []
    for b in sorted(bins):
        rows = bins[b]
        mean_p = sum(p for p, _ in rows) / len(rows)
        rate = sum(y for _, y in rows) / len(rows)
        out.append(
            {
                "bin": f"{b / 10:.1f}-{(b + 1) / 10:.1f}",
                "dwellings": len(rows),
                "mean_predicted": round(mean_p, 4),
                "observed_rate": round(rate, 4),
                "gap": round(abs(mean_p - rate), 4),
                "counted": len(rows) >= MIN_PER_BIN,
            }
        )
    return out


def max_gap(table: list[dict[str, Any]]) -> float | None:
    gaps = [r["gap"] for r in table if r["counted"]]
    return max(gaps) if gaps else None


def rank_leads(
    warehouse: Path,
    group_rentals: set[str],
    checked: set[str],
    kinds: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Precision@k of the learned and prior-only rankings among unchecked dwellings, and
    the checked dwellings' (probability, confirmed) pairs; with the truth's ``kinds``
    (house -> group_rental or the confounder's kind), what each top k is made of (which
    confounders take the places of the missed group rentals)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cols = columns(con, SCORES)
        has_prior = "prior_score" in cols
        prior_col = "prior_score" if has_prior else "score"
        rows = con.execute(f"select house_id, score, {prior_col} from {SCORES}").fetchall()
        pairs: list[tuple[float, int]] = []
        if "probability" in cols:
            pairs = [
                (float(p), int(y))
                for p, y in con.execute(
                    f"select s.probability, c.confirmed from {SCORES} as s inner join ("
                    "  select house_id, max(case when is_confirmed_group_rental then 1 else 0 end)"
                    "    as confirmed"
                    "  from marts.fct_rental_checks"
                    f"  where house_id is not null and verdict in {CONCLUSIVE!r}"
                    "  group by house_id"
                    ") as c on s.house_id = c.house_id where s.probability is not null"
                ).fetchall()
            ]
    finally:
        con.close()
    scored = {h for h, _, _ in rows}
    unchecked = [r for r in rows if r[0] not in checked]
    positives = group_rentals - checked
    k = len(positives & scored)

    def ranked(i: int) -> list[str]:
        return [r[0] for r in sorted(unchecked, key=lambda r: (-(r[i] or 0.0), r[0]))]

    def composition(order: list[str]) -> dict[str, int]:
        top: dict[str, int] = {}
        for h in order[:k]:
            kind = (kinds or {}).get(h, "normal")
            top[kind] = top.get(kind, 0) + 1
        return dict(sorted(top.items(), key=lambda kv: -kv[1]))

    table = reliability(pairs)
    top_k = {"prior": composition(ranked(2))}
    if has_prior:
        top_k["learned"] = composition(ranked(1))
    return {
        "top_k_kinds": top_k if kinds is not None else None,
        "dwellings_scored": len(rows),
        "unchecked": len(unchecked),
        "k": k,
        "planted_not_scored": len(positives - scored),
        "learned": precision_at_k(ranked(1), positives, k) if has_prior else None,
        "prior": precision_at_k(ranked(2), positives, k),
        "prior_column": prior_col,
        "checked_with_probability": len(pairs),
        "reliability": table,
        "reliability_max_gap": max_gap(table),
        "_pairs": pairs,
    }


def sample_truth(truth: Path) -> tuple[set[str], set[str], dict[str, str]]:
    """(planted group rentals, houses with a police check, house -> group_rental or the
    confounder's kind) of a generated sample."""
    import polars as pl

    planted = pl.read_csv(truth / "group_rental_truth.csv", infer_schema=False)
    links = pl.read_csv(truth / "address_links.csv", infer_schema=False)
    group = set(planted.filter(pl.col("label") == "group_rental")["house_id"].to_list())
    checked = set(
        links.filter(pl.col("entity") == "police_rental_checks")["house_id"].drop_nulls().to_list()
    )
    kinds = {
        h: "group_rental" if label == "group_rental" else kind
        for h, label, kind in planted.select("house_id", "label", "kind").iter_rows()
    }
    return group, checked, kinds


def retrain(data_dir: Path) -> dict[str, Any]:
    """The lead model's features, training and scoring alone on a kept warehouse
    (``--retrain``): the model's seeds and feature models (``LEAD_FEATURES``),
    ``train_group_rental_model`` and dbt's leads step, the same functions ``pingan build``
    runs (a change of the model's features, code or settings is measured without
    re-ingesting and rebuilding every world)."""
    from contracts.settings import Settings
    from orchestration.defs.dbt.build import dbt_build
    from orchestration.defs.dbt.runner import LEADS_SELECT
    from orchestration.defs.leads.train import train_group_rental_model

    settings = Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")
    start = time.perf_counter()
    out: dict[str, Any] = {"ok": True}
    seeds = dbt_build(settings, select=LEAD_FEATURES)
    if not seeds.success:
        return {"ok": False, "error": seeds.summary, "seconds": 0.0}
    out["summary"] = train_group_rental_model(settings).line()
    scored = dbt_build(settings, select=LEADS_SELECT)
    if not scored.success:
        out |= {"ok": False, "error": scored.summary}
    out["seconds"] = round(time.perf_counter() - start, 1)
    return out


def generate_and_run(
    data_dir: Path, make: Any, reuse: bool, pipeline: str, again: bool = False
) -> tuple[float, dict[str, Any]]:
    """Generate the data dir with ``make()`` and run the pipeline there, unless ``reuse``
    and a finished run of an earlier bench is there (``--keep``, then ``--reuse``: to
    re-rank without re-running; with ``again`` (``--retrain``) the lead model is trained
    and scored again on it)."""
    done = data_dir / "bench_run.json"
    if reuse and done.exists():
        body = json.loads(done.read_text(encoding="utf-8"))
        run = {**body["run"], "reused": True}
        if again:
            run["retrained"] = retrain(data_dir)
            run["ok"] = run["ok"] and run["retrained"]["ok"]
            # a later --reuse reports that this run's model was trained again
            body["run"] = {k: v for k, v in run.items() if k != "reused"}
            done.write_text(json.dumps(body), encoding="utf-8")
        return body["generate_seconds"], run
    shutil.rmtree(data_dir, ignore_errors=True)
    start = time.perf_counter()
    make()
    gen_s = round(time.perf_counter() - start, 1)
    run = pingan(data_dir, pipeline)
    done.write_text(json.dumps({"generate_seconds": gen_s, "run": run}), encoding="utf-8")
    return gen_s, run


def measure_world(
    world: int,
    scale: str,
    months: int,
    root: Path,
    keep: bool,
    reuse: bool,
    pipeline: str,
    again: bool = False,
) -> dict[str, Any]:
    from simulator import generate
    from simulator.world import read_world

    seed = SEED + world
    data_dir = root / f"w{world}"
    gen_s, run = generate_and_run(
        data_dir,
        lambda: generate(data_dir, scale=scale, months=months, seed=seed, end=END, world=world),
        reuse,
        pipeline,
        again,
    )
    group, checked, kinds = sample_truth(data_dir / "truth")
    result: dict[str, Any] = {"world": world, "seed": seed, "generate_seconds": gen_s, "run": run}
    drawn = (read_world(data_dir / "truth") or {}).get("assumptions", {})
    result["assumptions"] = {
        f"{t}.{k}": drawn.get(t, {}).get(k) for t, keys in SHOWN.items() for k in keys
    }
    result["planted_group_rentals"] = len(group)
    result["checked_houses"] = len(checked)
    try:
        result |= rank_leads(data_dir / "warehouse.duckdb", group, checked, kinds)
    except duckdb.Error as exc:
        result["error"] = f"cannot rank: {exc}".splitlines()[0]
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def measure_eval_city(
    root: Path, keep: bool, reuse: bool, pipeline: str, again: bool = False
) -> dict[str, Any]:
    truth = json.loads((EVAL_CITY / "truth.json").read_text(encoding="utf-8"))
    data_dir = root / "eval_city"
    _, run = generate_and_run(
        data_dir,
        lambda: shutil.copytree(EVAL_CITY / "landing", data_dir / "landing"),
        reuse,
        pipeline,
        again,
    )
    group = {h for h, kind in truth["kinds"].items() if kind == "group_rental"}
    result: dict[str, Any] = {"run": run, "planted_group_rentals": len(group)}
    try:
        result |= rank_leads(
            data_dir / "warehouse.duckdb", group, set(truth["checked"]), dict(truth["kinds"])
        )
    except duckdb.Error as exc:
        result["error"] = f"cannot rank: {exc}".splitlines()[0]
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def spread(values: list[float | None]) -> dict[str, float] | None:
    xs = [v for v in values if v is not None]
    if not xs:
        return None
    return {"min": min(xs), "median": round(statistics.median(xs), 4), "max": max(xs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=8, help="how many worlds (default 8)")
    parser.add_argument("--first-world", type=int, default=1, help="first world number")
    parser.add_argument("--scale", default="demo", help="demo | test | N (default demo)")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--no-eval-city", action="store_true", help="skip the independent city")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs")
    parser.add_argument(
        "--pipeline",
        choices=("run", "build"),
        default="run",
        help="run: pingan run (default); build: pingan ingest + pingan build",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worlds measured at a time")
    parser.add_argument("--result", default="leads", help="results file name (default leads)")
    parser.add_argument(
        "--reuse", action="store_true", help="re-rank the runs a --keep bench left (no re-run)"
    )
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="with --reuse: train and score the lead model again on the kept runs",
    )
    args = parser.parse_args(argv)
    from benchmarks.report import leads_section

    root = WORK / f"leads_{args.scale}_{args.pipeline}"
    root.mkdir(parents=True, exist_ok=True)
    worlds: list[dict[str, Any]] = []
    pooled: list[tuple[float, int]] = []
    eval_city: dict[str, Any] | None = None
    numbers = list(range(args.first_world, args.first_world + args.worlds))
    with_eval = not args.no_eval_city and (EVAL_CITY / "truth.json").exists()
    # Worlds (and the independent city) are independent: ``--jobs`` of them at a time, each
    # in its own data dir and its own pingan processes.
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {}
        if with_eval:  # first: the figure that matters most
            futures[
                pool.submit(
                    measure_eval_city, root, args.keep, args.reuse, args.pipeline, args.retrain
                )
            ] = -1
        futures |= {
            pool.submit(
                measure_world,
                n,
                args.scale,
                args.months,
                root,
                args.keep,
                args.reuse,
                args.pipeline,
                args.retrain,
            ): n
            for n in numbers
        }
        for future in as_completed(futures):
            w = future.result()
            pairs = w.pop("_pairs", [])
            name = "eval city" if futures[future] == -1 else f"world {futures[future]}"
            print(
                f"{name}: k={w.get('k')} prior {w.get('prior')} learned {w.get('learned')} "
                f"(run {'ok' if w['run']['ok'] else 'FAILED'} in {w['run']['seconds']} s)",
                flush=True,
            )
            if futures[future] == -1:
                eval_city = w
                continue
            worlds.append(w)
            worlds.sort(key=lambda x: x["world"])
            pooled += pairs
            # written after every world: a long bench interrupted still leaves its figures
            write_result(args.result, payload(args, worlds, pooled, eval_city))
    path = write_result(args.result, payload(args, worlds, pooled, eval_city))
    print("\n".join(leads_section(json.loads(path.read_text(encoding="utf-8")))))
    return 0 if all(w["run"]["ok"] for w in worlds) else 1


def payload(
    args: argparse.Namespace,
    worlds: list[dict[str, Any]],
    pooled: list[tuple[float, int]],
    eval_city: dict[str, Any] | None,
) -> dict[str, Any]:
    pooled_table = reliability(pooled)
    has_learned = any(w.get("learned") is not None for w in worlds)
    return {
        "seed_base": SEED,
        "end": END,
        "scale": args.scale,
        "months": args.months,
        "pipeline": args.pipeline,
        "note": None
        if has_learned
        else "mart_group_rental_scores has no prior_score column: score is the prior-only "
        "model and there is no learned model yet (learned = null)",
        "summary": {
            "learned": spread([w.get("learned") for w in worlds]),
            "prior": spread([w.get("prior") for w in worlds]),
        },
        "goals": {"min": 0.6, "median": 0.75, "eval_city": 0.6, "calibration_gap": 0.05},
        "worlds": worlds,
        "eval_city": eval_city,
        "reliability_pooled": pooled_table,
        "reliability_pooled_max_gap": max_gap(pooled_table),
    }


if __name__ == "__main__":
    raise SystemExit(main())
