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
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

WORLD_FILE = "world.json"


def default_world(seed: int) -> int:
    """The world of a run that names none: derived from the seed, stable across runs."""
    return zlib.crc32(f"world-of-seed-{seed}".encode()) % 100_000


@dataclass
class World:
    number: int
    assumptions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def rng(self, topic: str) -> np.random.Generator:
        """The random stream of one topic's assumptions in this world."""
        return np.random.default_rng([self.number, zlib.crc32(f"world:{topic}".encode())])

    def record(self, topic: str, values: dict[str, Any]) -> None:
        """Keep what a topic drew, for ``truth/world.json``."""
        self.assumptions[topic] = values

    def write(self, truth_dir: Path) -> Path:
        path = Path(truth_dir) / WORLD_FILE
        body = {"world": self.number, "assumptions": self.assumptions}
        path.write_text(
            json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True, default=float),
            encoding="utf-8",
        )
        return path


def read_world(truth_dir: Path) -> dict[str, Any] | None:
    """The assumptions a sample was generated under, or None for a sample without them."""
    path = Path(truth_dir) / WORLD_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
