"""A world: one draw of the synthetic city's data-generating assumptions.

No single generated city is the exam. Each ``pingan sample`` run belongs to a
world, numbered by ``--world N`` (by default derived from the seed), and every
module of the simulator that has assumptions to vary (how many group-rental
tenants register, how often neighbours complain, how strong the confounders
are, how seasonal and overdispersed the indicators are, ...) draws them from
``world.rng(<topic>)`` and records what it drew with ``world.record(<topic>,
{...})``. The record is written beside the planted truth as
``truth/world.json``, so an evaluation can say which assumptions a figure was
measured under.

The world's random streams are independent of the seed's: the same world with
another seed is the same set of assumptions with other people and events.

Declared assumptions
--------------------
The group-rental assumptions are declared once, in :data:`ASSUMPTIONS`
(topic -> key -> :class:`Assumption`: its range, how it is drawn, what it
means and the value the generator used before worlds existed). ``world.get(topic)``
draws every key of a topic within its range from ``world.rng(topic)``, applies
the overrides and records the result. The ranges are meant to be plausible for
a Chinese prefecture-level city; a figure measured on one world says little,
measured across many it says how robust the leads are.

Overrides (for tests and experiments)
-------------------------------------
``World(number, overrides={"group_rental": {"complaints_per_year": 0.0}})`` or
``pingan sample --world-file FILE.json`` with ``{"world": N, "overrides":
{topic: {key: value}}}`` (``world`` optional). An override replaces the drawn
value (it may lie outside the drawn range, e.g. 0 to switch a signal off); an
unknown topic or key is a ``ValueError``, so a typo cannot silently test the
wrong world. The keys are those of :data:`ASSUMPTIONS` (listed, with their
ranges, in ``simulator/README.md``). Example: a world where complaints say
nothing and crowding and deregistration churn say a lot, i.e. one where the
prior's ordering of factors is wrong::

    {"overrides": {
      "group_rental": {"complaints_per_year": 0.0, "grid_findings_per_year": 0.0,
                       "incidents_per_year": 0.0, "floating_register_share": 0.8,
                       "stay_days": 35, "quiet_share": 0.0},
      "confounders": {"quarrelsome_neighbour_share": 0.006,
                      "quarrelsome_complaints_per_year": 14,
                      "quarrelsome_group_share": 0.7,
                      "typo_address_share": 0.006}}}

(:data:`PRIOR_WRONG` holds exactly this.)
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

WORLD_FILE = "world.json"


@dataclass(frozen=True)
class Assumption:
    """One data-generating assumption: drawn uniformly in [low, high] (on the log scale
    when ``log``), rounded when ``integer``; ``before`` is the value every sample had
    before worlds existed."""

    low: float
    high: float
    before: float
    doc: str
    log: bool = False
    integer: bool = False

    def draw(self, rng: np.random.Generator) -> float | int:
        if self.log:
            v = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            v = float(rng.uniform(self.low, self.high))
        return round(v) if self.integer else round(v, 4)


A = Assumption
# Rates are per planted house per year unless said otherwise.
ASSUMPTIONS: dict[str, dict[str, Assumption]] = {
    "group_rental": {
        "share": A(0.005, 0.012, 0.008, "share of rental houses that are group rentals"),
        "overcrowded_share": A(
            0.25, 0.8, 0.6, "share of group rentals that register many tenants (overcrowded)"
        ),
        "overcrowded_tenants_min": A(
            6, 10, 8, "fewest registered tenants of an overcrowded house", integer=True
        ),
        "overcrowded_tenants_span": A(
            4,
            10,
            10,
            "registered tenants of an overcrowded house range over min..min+span",
            integer=True,
        ),
        "occupants_min": A(6, 10, 8, "fewest people living in a group rental", integer=True),
        "occupants_span": A(6, 12, 12, "people living range over min..min+span", integer=True),
        "floating_register_share": A(
            0.03,
            0.85,
            0.3,
            "share of a group rental's tenant moves registered as floating population "
            "(almost none to most)",
            log=True,
        ),
        "stay_days": A(
            30, 150, 70, "mean stay of a group-rental tenant in days (short: churn)", log=True
        ),
        "complaints_per_year": A(0.3, 6.0, 3.0, "12345 complaints about the house", log=True),
        "complaint_mix_group": A(0.05, 1.0, 0.45, "weight of 群租房 among those complaints"),
        "complaint_mix_noise": A(0.05, 1.0, 0.30, "weight of 噪音扰民"),
        "complaint_mix_rubbish": A(0.05, 1.0, 0.15, "weight of 垃圾清运"),
        "complaint_mix_ebike": A(0.05, 1.0, 0.10, "weight of 电动车充电"),
        "grid_coverage": A(0.15, 1.0, 1.0, "share of group rentals the grid patrols reach at all"),
        "grid_findings_per_year": A(
            0.3, 3.0, 1.5, "grid events 出租房屋/群租房 at a house the patrols reach", log=True
        ),
        "grid_transfer_share": A(
            0.1, 0.7, 0.45, "share of 群租房 complaints the hotline transfers to the grid"
        ),
        "incidents_per_year": A(0.2, 2.5, 1.2, "110 incidents at the house", log=True),
        "hazards_per_year": A(0.3, 3.0, 1.35, "hazards found at the house", log=True),
        "quiet_share": A(
            0.1, 0.45, 0.25, "share of houses that show only a trace of any given signal"
        ),
    },
    "registry": {
        "tenant_error_share": A(
            0.0, 0.3, 0.0, "share of ordinary houses whose registered tenant count is off"
        ),
        "area_error_sd": A(
            0.0, 0.3, 0.0, "log-normal sd of the registered floor area around the true one"
        ),
    },
    "hazards": {
        "background_per_rental": A(0.03, 0.1, 0.06, "hazards per ordinary letting house per year"),
        "fixed_share": A(0.85, 0.98, 0.945, "share of hazards fixed (outside bad months)"),
    },
    "confounders": {
        "large_family_share": A(0.0005, 0.005, 0.0025, "share of rental houses", log=True),
        "staff_dormitory_share": A(0.0005, 0.005, 0.0025, "share of rental houses", log=True),
        "student_housing_share": A(0.0005, 0.005, 0.0025, "share of rental houses", log=True),
        "flat_share_share": A(
            0.0005,
            0.006,
            0.0,
            "share of rental houses that are lawful flat shares with short stays",
            log=True,
        ),
        "quarrelsome_neighbour_share": A(0.0005, 0.005, 0.0025, "share of rental houses", log=True),
        "typo_address_share": A(0.0005, 0.005, 0.0025, "share of rental houses", log=True),
        "large_family_area_min": A(
            80, 120, 110, "smallest floor area of a large family's flat (m², span 70)"
        ),
        "large_family_registrations_per_year": A(1.0, 8.0, 4.0, "floating registrations"),
        "staff_dormitory_registrations_per_year": A(5.0, 40.0, 20.0, "floating registrations"),
        "student_housing_registrations_per_year": A(3.0, 15.0, 8.0, "floating registrations"),
        "flat_share_registrations_per_year": A(6.0, 30.0, 0.0, "floating registrations"),
        "flat_share_stay_days": A(30, 120, 0, "mean stay of a flat-share tenant in days"),
        "quarrelsome_complaints_per_year": A(2.0, 15.0, 8.0, "complaints from one caller"),
        "quarrelsome_group_share": A(
            0.1, 0.7, 0.4, "share of the quarrelsome caller's complaints filed as 群租房"
        ),
        "quarrelsome_incidents_per_year": A(0.0, 2.0, 0.8, "110 calls from the same neighbour"),
        "typo_address_complaints_per_year": A(
            1.0, 10.0, 5.0, "complaints about other houses written with this address"
        ),
        "typo_address_grid_events_per_year": A(0.0, 2.0, 1.0, "grid events likewise"),
    },
    "addresses": {
        "typo_rate": A(0.005, 0.05, 0.02, "share of addresses written with a road-name typo"),
        "fullwidth_rate": A(0.0, 0.06, 0.03, "share of addresses in full-width digits"),
        "floating_house_id_share": A(
            0.15, 0.7, 0.4, "share of floating registrations that carry the house id"
        ),
        "check_house_id_share": A(0.7, 1.0, 0.92, "share of police checks that carry the house id"),
    },
    "checks": {
        "random_per_rental_per_year": A(
            0.01, 0.06, 0.03, "random checks per rental house per year"
        ),
        "targeted_per_group_rental": A(
            0.4,
            1.4,
            1.07,
            "targeted checks (after leads or complaints) per planted group rental",
        ),
        "lead_share": A(
            0.1,
            0.9,
            0.5,
            "share of the targeted checks that follow an earlier lead (the rest follow complaints)",
        ),
        "confirm_rate": A(0.7, 0.95, 0.85, "share of checked group rentals found 确认群租"),
        "false_confirm_rate": A(0.005, 0.05, 0.03, "share of other checked houses found 确认群租"),
        "occupants_given_share": A(0.3, 1.0, 1.0, "share of checks that give 实住人数"),
    },
}
del A

# A world built so that the prior's ordering of factors is wrong: complaints, grid events
# and incidents say nothing (group rentals get none; quarrelsome neighbours and typo-prone
# addresses get many), while crowding and floating-population churn say a lot.
PRIOR_WRONG: dict[str, dict[str, Any]] = {
    "group_rental": {
        "complaints_per_year": 0.0,
        "grid_findings_per_year": 0.0,
        "incidents_per_year": 0.0,
        "floating_register_share": 0.8,
        "stay_days": 35,
        "quiet_share": 0.0,
    },
    "confounders": {
        "quarrelsome_neighbour_share": 0.006,
        "quarrelsome_complaints_per_year": 14,
        "quarrelsome_group_share": 0.7,
        "typo_address_share": 0.006,
    },
}


def default_world(seed: int) -> int:
    """The world of a run that names none: derived from the seed, stable across runs."""
    return zlib.crc32(f"world-of-seed-{seed}".encode()) % 100_000


def _check_overrides(overrides: dict[str, dict[str, Any]]) -> None:
    for topic, values in overrides.items():
        if topic not in ASSUMPTIONS:
            raise ValueError(
                f"world override: unknown topic {topic!r} (known: {', '.join(ASSUMPTIONS)})"
            )
        if not isinstance(values, dict):
            raise ValueError(f"world override: {topic!r} must map keys to values")
        for key, value in values.items():
            if key not in ASSUMPTIONS[topic]:
                raise ValueError(f"world override: unknown key {topic}.{key}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"world override: {topic}.{key} must be a number, not {value!r}")


@dataclass
class World:
    number: int
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    assumptions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_overrides(self.overrides)

    def rng(self, topic: str) -> np.random.Generator:
        """The random stream of one topic's assumptions in this world."""
        return np.random.default_rng([self.number, zlib.crc32(f"world:{topic}".encode())])

    def record(self, topic: str, values: dict[str, Any]) -> None:
        """Keep what a topic drew, for ``truth/world.json``."""
        self.assumptions[topic] = values

    def get(self, topic: str) -> dict[str, Any]:
        """The declared assumptions of ``topic`` in this world: drawn within their ranges
        (every key, in declaration order, so adding an override changes nothing else),
        overrides applied, recorded. The same on every call."""
        if topic in self.assumptions:
            return self.assumptions[topic]
        rng = self.rng(topic)
        values: dict[str, Any] = {k: a.draw(rng) for k, a in ASSUMPTIONS[topic].items()}
        values.update(self.overrides.get(topic, {}))
        self.record(topic, values)
        return values

    def write(self, truth_dir: Path) -> Path:
        path = Path(truth_dir) / WORLD_FILE
        body = {"world": self.number, "overrides": self.overrides, "assumptions": self.assumptions}
        path.write_text(
            json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True, default=float),
            encoding="utf-8",
        )
        return path


def load_world_file(path: Path, number: int | None = None) -> World:
    """A world from ``{"world": N, "overrides": {...}}`` (``number`` wins over the file's
    ``world``; without either the world is 0). One-line ``ValueError`` on a bad file."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read world file {path}: {exc}") from None
    if not isinstance(body, dict) or not set(body) <= {"world", "overrides"}:
        raise ValueError(f"world file {path}: expected an object with 'world' and 'overrides'")
    n = number if number is not None else body.get("world", 0)
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"world file {path}: 'world' must be an integer")
    return World(n, overrides=body.get("overrides") or {})


def read_world(truth_dir: Path) -> dict[str, Any] | None:
    """The assumptions a sample was generated under, or None for a sample without them."""
    path = Path(truth_dir) / WORLD_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
