"""Worlds: the sample's data-generating assumptions are drawn per world, within declared
ranges, written beside the truth, reproducible, and overridable for tests.

The session sample (``tests/conftest.py``) is the seed's default world; the other
samples here are one month at test scale, to stay fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl
import pytest

from simulator import generate
from simulator.cli import run_sample
from simulator.world import ASSUMPTIONS, PRIOR_WRONG, World, default_world, load_world_file
from tests.conftest import TEST_END, TEST_SCALE, TEST_SEED
from tests.simulator.test_generator import digests, latest


def _world_json(root: Path) -> dict:
    return json.loads((root / "truth" / "world.json").read_text(encoding="utf-8"))


def _links_per_house(root: Path, entity: str) -> pl.DataFrame:
    """Records of ``entity`` truly about each house, with the house's label and kind."""
    truth = pl.read_csv(root / "truth" / "group_rental_truth.csv", infer_schema=False)
    links = pl.read_csv(root / "truth" / "address_links.csv", infer_schema=False)
    per = links.filter(pl.col("entity") == entity).group_by("house_id").len()
    return truth.join(per, on="house_id", how="left").with_columns(pl.col("len").fill_null(0))


def test_every_assumption_is_drawn_within_its_declared_range():
    for n in range(40):
        w = World(n)
        for topic, declared in ASSUMPTIONS.items():
            drawn = w.get(topic)
            assert set(drawn) == set(declared), topic
            for key, a in declared.items():
                assert a.low <= drawn[key] <= a.high, (n, topic, key, drawn[key])
    # Worlds differ in every topic; a world is the same on every call.
    a, b = World(1), World(2)
    for topic in ASSUMPTIONS:
        assert a.get(topic) != b.get(topic), topic
        assert World(1).get(topic) == a.get(topic)


def test_the_sample_writes_its_world_beside_the_truth(sample_root: Path):
    body = _world_json(sample_root)
    n = default_world(TEST_SEED)
    assert body["world"] == n and body["overrides"] == {}
    assert set(body["assumptions"]) >= set(ASSUMPTIONS)
    for topic in ASSUMPTIONS:
        assert body["assumptions"][topic] == World(n).get(topic), topic
    manifest = json.loads((sample_root / "truth" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["world"] == n


def test_the_same_world_and_seed_give_the_same_bytes_and_another_world_does_not(tmp_path: Path):
    def sample(name: str, world: int) -> Path:
        generate(tmp_path / name, scale=TEST_SCALE, months=1, seed=3, end=TEST_END, world=world)
        return tmp_path / name

    a, again, other = sample("a", 11), sample("again", 11), sample("other", 12)
    assert digests(a) == digests(again)
    assert _world_json(a)["assumptions"] != _world_json(other)["assumptions"]
    da, do = digests(a / "landing"), digests(other / "landing")
    assert sum(da[k] == do.get(k) for k in da) < 0.2 * len(da)
    # The city's people and places are the seed's; its planted houses follow the world.
    ma, mo = (json.loads((r / "truth" / "manifest.json").read_bytes()) for r in (a, other))
    assert ma["rental_houses"] == mo["rental_houses"] and ma["planted"] != mo["planted"]


def test_overrides_replace_the_drawn_value_and_nothing_else():
    plain = World(5)
    w = World(5, overrides={"group_rental": {"complaints_per_year": 0.0, "stay_days": 35}})
    got, drawn = w.get("group_rental"), plain.get("group_rental")
    assert got["complaints_per_year"] == 0.0 and got["stay_days"] == 35
    assert {k: v for k, v in got.items() if k not in ("complaints_per_year", "stay_days")} == {
        k: v for k, v in drawn.items() if k not in ("complaints_per_year", "stay_days")
    }
    for topic in ASSUMPTIONS:
        if topic != "group_rental":
            assert w.get(topic) == plain.get(topic)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"groups": {}}, "unknown topic 'groups'"),
        ({"group_rental": {"complaints": 1}}, "unknown key group_rental.complaints"),
        ({"group_rental": {"share": "high"}}, "must be a number"),
    ],
)
def test_bad_overrides_are_refused_with_one_line(overrides: dict, message: str, tmp_path: Path):
    with pytest.raises(ValueError, match=message):
        World(1, overrides=overrides)
    bad = tmp_path / "world.json"
    bad.write_text(json.dumps({"overrides": overrides}), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_world_file(bad)


def test_the_cli_refuses_a_bad_world_file_with_one_line(tmp_path: Path, capsys):
    bad = tmp_path / "w.json"
    bad.write_text("{not json", encoding="utf-8")
    args = argparse.Namespace(
        out=str(tmp_path / "out"),
        scale="test",
        months=1,
        seed=3,
        end=TEST_END,
        world=None,
        world_file=str(bad),
    )
    assert run_sample(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pingan sample:") and "cannot read world file" in err
    assert "\n" not in err


def test_a_world_file_where_complaints_say_nothing_is_honoured(tmp_path: Path):
    """The world the model helper needs: the prior's ordering of factors is wrong there."""
    wf = tmp_path / "prior_wrong.json"
    wf.write_text(json.dumps({"world": 4, "overrides": PRIOR_WRONG}), encoding="utf-8")
    out = tmp_path / "out"
    args = argparse.Namespace(
        out=str(out),
        scale="test",
        months=2,
        seed=3,
        end=TEST_END,
        world=None,
        world_file=str(wf),
    )
    assert run_sample(args) == 0
    body = _world_json(out)
    assert body["world"] == 4 and body["overrides"] == PRIOR_WRONG
    for topic, values in PRIOR_WRONG.items():
        for key, value in values.items():
            assert body["assumptions"][topic][key] == value
    tickets = _links_per_house(out, "hotline_tickets")
    floating = _links_per_house(out, "police_floating_population")
    group = pl.col("label") == "group_rental"
    # No planted complaint at a group rental (a background ticket may land on one by chance)...
    assert tickets.filter(group)["len"].sum() <= 2
    # ...while quarrelsome neighbours complain a lot, and group rentals churn tenants.
    assert tickets.filter(pl.col("kind") == "quarrelsome_neighbour")["len"].mean() >= 1.0
    assert floating.filter(group)["len"].mean() >= 10


def test_lawful_flat_shares_churn_tenants_without_crowding(
    sample_root: Path, frames: dict[str, pl.DataFrame]
):
    floating = _links_per_house(sample_root, "police_floating_population")
    flat = floating.filter(pl.col("kind") == "flat_share")
    assert flat.height >= 4 and (flat["label"] == "confounder").all()
    # Many registrations per house (the world's rate over three months)...
    rate = _world_json(sample_root)["assumptions"]["confounders"][
        "flat_share_registrations_per_year"
    ]
    assert flat["len"].mean() >= 0.5 * rate * 0.25
    # ...in a registry that shows no crowding: at most 4 tenants in 3-4 rooms.
    reg = latest(frames["rental_houses"], "house_id").join(flat, on="house_id")
    tenants = reg["registered_tenants"].str.replace_all(r"\D", "").cast(pl.Int64)
    rooms = reg["rooms"].str.replace_all(r"\D", "").cast(pl.Int64)
    assert tenants.max() <= 4 and rooms.min() >= 3


def test_checks_give_the_occupants_found_as_often_as_the_world_says(
    sample_root: Path, frames: dict[str, pl.DataFrame]
):
    share = _world_json(sample_root)["assumptions"]["checks"]["occupants_given_share"]
    checks = latest(frames["police_rental_checks"], "check_id", version="checked_at")
    given = checks["occupants_found"].str.replace_all(r"\D", "").str.len_chars().fill_null(0) > 0
    assert checks.height >= 20
    assert abs(given.mean() - share) < 0.2
    # Some checks follow an earlier lead and carry its id.
    assert checks["lead_id"].str.starts_with("QZ").fill_null(False).sum() >= 3


def test_the_sample_readme_documents_every_assumption():
    readme = (Path(__file__).resolve().parents[2] / "simulator" / "README.md").read_text(
        encoding="utf-8"
    )
    missing = [f"{t}.{k}" for t, d in ASSUMPTIONS.items() for k in d if f"`{t}.{k}`" not in readme]
    assert not missing
