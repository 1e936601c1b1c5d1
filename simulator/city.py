"""The static city: regions, grids, grid workers, residential compounds and rental houses.

Every scale keeps the 10 districts and 96 streets; communities, grids, compounds,
rental houses and people scale with the number of residents. The group-rental
truth (planted group rentals and confounders) is decided here, on the houses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from simulator import people, vocab
from simulator.world import World

DISTRICT_CENTRES = {
    "崇川区": (120.89, 32.01),
    "通州区": (121.07, 32.07),
    "海门区": (121.17, 31.89),
    "如东县": (121.18, 32.33),
    "启东市": (121.66, 31.81),
    "如皋市": (120.57, 32.37),
    "海安市": (120.47, 32.53),
    "南通经济技术开发区": (120.98, 31.95),
    "苏锡通科技产业园区": (121.05, 31.88),
    "通州湾示范区": (121.39, 32.12),
}
RENTALS_PER_THOUSAND = 360_000 / 7_700  # rental houses per 1,000 residents

GROUP_KINDS = ("overcrowded", "under_registered")
CONFOUNDER_KINDS = (
    "large_family",
    "staff_dormitory",
    "student_housing",
    "quarrelsome_neighbour",
    "typo_address",
    "flat_share",  # a lawful 合租 with short stays: churn without crowding
)


@dataclass
class City:
    residents: int
    streets: pl.DataFrame  # street_idx, district_idx, district, district_code, street, population
    communities: pl.DataFrame  # comm_idx, street_idx, community, rural, population
    grids: pl.DataFrame  # grid_idx, grid_code, grid_name, grid_type, comm_idx, street_idx, ...
    workers: pl.DataFrame  # worker_id, grid_code, ...
    compounds: pl.DataFrame  # comp_idx, grid_idx, road, road_typo, number, buildings, ...
    houses: pl.DataFrame  # house_id, comp_idx, building, room, ..., label, kind, occupants


def _pick(rng: np.random.Generator, items: list[str] | tuple[str, ...], n: int) -> np.ndarray:
    return np.array(items)[rng.integers(0, len(items), n)]


def build_streets(rng: np.random.Generator, residents: int) -> pl.DataFrame:
    syll = list(vocab.PLACE_SYLLABLES)
    order = rng.permutation(len(syll))
    pos = 0
    rows: list[tuple[object, ...]] = []
    for d_idx, (dname, dcode, share, n_streets, urban) in enumerate(vocab.DISTRICTS):
        weights = rng.dirichlet(np.full(n_streets, 4.0))
        for s in range(n_streets):
            if dname == "崇川区":
                sname = vocab.CHONGCHUAN_STREETS[s]
            else:
                stem = syll[order[pos]]
                pos += 1
                sname = stem + ("街道" if s < max(1, round(n_streets * urban)) else "镇")
            rows.append(
                (len(rows), d_idx, dname, dcode, sname, round(residents * share * weights[s]))
            )
    return pl.DataFrame(
        rows,
        schema=["street_idx", "district_idx", "district", "district_code", "street", "population"],
        orient="row",
    )


def build(
    rng: np.random.Generator,
    residents: int,
    start: np.datetime64,
    end: np.datetime64,
    *,
    world: World,
) -> City:
    """The city for ``residents`` people (the city scale is 7.7 million).

    Rental houses are registered between four years before ``start`` and ``end``;
    planted houses (group rentals and confounders) before ``start``. How many are
    planted, how crowded they are and how accurate the registry is come from ``world``.
    """
    ref_year = int(str(end)[:4])
    streets = build_streets(rng, residents)
    syll = np.array(vocab.PLACE_SYLLABLES)

    # Communities: ~4,000 residents each (at least one per street).
    comm_rows: list[tuple[object, ...]] = []
    for st in streets.iter_rows(named=True):
        n = max(1, round(st["population"] / 4000))
        w = rng.dirichlet(np.full(n, 3.0))
        town = st["street"].endswith("镇")
        for i in range(n):
            rural = town and rng.random() < 0.6
            name = "".join(rng.choice(syll, 1)) + ("村" if rural else "社区")
            if rural:
                name = f"{name[:-1]}{i + 1}村" if rng.random() < 0.2 else name
            comm_rows.append(
                (len(comm_rows), st["street_idx"], name, rural, int(st["population"] * w[i]))
            )
    communities = pl.DataFrame(
        comm_rows,
        schema=["comm_idx", "street_idx", "community", "rural", "population"],
        orient="row",
    )
    # Unique community names within a street: suffix a number on clashes.
    communities = communities.with_columns(
        pl.when(pl.int_range(pl.len()).over("street_idx", "community") > 0)
        .then(
            pl.col("community").str.slice(0, pl.col("community").str.len_chars() - 2)
            + pl.int_range(pl.len()).over("street_idx", "community").cast(pl.String)
            + pl.col("community").str.slice(-2)
        )
        .otherwise(pl.col("community"))
        .alias("community")
    )

    # Grids: ~850 residents (~300 households) per urban grid; villager groups in villages;
    # plus ~5% 专属网格 for schools, hospitals and firms.
    comm = communities.join(
        streets.select("street_idx", "district_idx", "district_code", "street", "district"),
        on="street_idx",
    )
    grid_rows = []
    seq_in_street: dict[int, int] = {}
    for c in comm.iter_rows(named=True):
        n = max(1, round(c["population"] / (700 if c["rural"] else 850)))
        pops = rng.multinomial(c["population"], np.full(n, 1 / n)) if c["population"] else [0] * n
        for i in range(n):
            k = seq_in_street[c["street_idx"]] = seq_in_street.get(c["street_idx"], 0) + 1
            code = f"{c['district_code']}{c['street_idx'] % 1000:03d}{k:04d}"
            gtype = "农村网格" if c["rural"] else "城镇社区网格"
            gname = f"{c['community']}{i + 1}组" if c["rural"] else f"{c['community']}第{i + 1}网格"
            grid_rows.append(
                (
                    code,
                    gname,
                    gtype,
                    c["comm_idx"],
                    c["street_idx"],
                    c["district_idx"],
                    int(pops[i]),
                )
            )
        if rng.random() < 0.06 * max(1, n / 4):
            k = seq_in_street[c["street_idx"]] = seq_in_street.get(c["street_idx"], 0) + 1
            code = f"{c['district_code']}{c['street_idx'] % 1000:03d}{k:04d}"
            kind = ["学校", "医院", "工业园", "商务楼宇"][int(rng.integers(0, 4))]
            grid_rows.append(
                (
                    code,
                    f"{c['community']}{kind}专属网格",
                    "专属网格",
                    c["comm_idx"],
                    c["street_idx"],
                    c["district_idx"],
                    int(rng.integers(200, 3000)),
                )
            )
    grids = pl.DataFrame(
        grid_rows,
        schema=[
            "grid_code",
            "grid_name",
            "grid_type",
            "comm_idx",
            "street_idx",
            "district_idx",
            "population",
        ],
        orient="row",
    ).with_row_index("grid_idx")
    ng = grids.height
    grids = grids.with_columns(
        households=(pl.col("population") / pl.Series(rng.uniform(2.4, 2.9, ng)))
        .round(0)
        .cast(pl.Int64),
        leader_name=pl.Series(people.names(rng, ng)),
        leader_phone=pl.Series(people.mobiles(rng, ng)),
    ).join(
        comm.select("comm_idx", "community", "street", "district", "district_code"), on="comm_idx"
    )

    workers = _build_workers(rng, grids, ref_year)
    compounds = _build_compounds(rng, grids, streets)
    houses = _build_houses(rng, residents, compounds, grids, start, end, world)
    return City(residents, streets, communities, grids, workers, compounds, houses)


def _build_workers(rng: np.random.Generator, grids: pl.DataFrame, ref_year: int) -> pl.DataFrame:
    per_grid = 1 + (rng.random(grids.height) < 0.35).astype(np.int64)
    g = grids.select("grid_code", "district_code").to_numpy()
    rep = np.repeat(np.arange(grids.height), per_grid)
    n = len(rep)
    male = rng.random(n) < 0.45
    ids = people.id_numbers(
        rng, g[rep, 1].astype("U6"), people.birth_days(rng, n, 23, 58, ref_year), male
    )
    joined = np.datetime64(f"{ref_year - 8}-01-01") + rng.integers(0, 8 * 365, n).astype(
        "timedelta64[D]"
    )
    first = np.r_[True, rep[1:] != rep[:-1]]
    return pl.DataFrame(
        {
            "worker_id": [f"WGY{i:07d}" for i in range(1, n + 1)],
            "name": people.names(rng, n),
            "id_number": ids,
            "phone": people.mobiles(rng, n),
            "grid_code": g[rep, 0].astype(str),
            "post": np.where(first, "专职", "兼职"),
            "joined_on": joined,
            "status": np.where(rng.random(n) < 0.04, "离岗", "在岗"),
        }
    )


def _road_pool() -> list[str]:
    out = []
    for stem in vocab.ROAD_STEMS:
        for d in ("", "东", "西", "南", "北"):
            for suf in ("路", "街", "大道", "巷"):
                out.append(stem + d + suf)
    return out


def _typo(name: str, rng: np.random.Generator) -> str:
    cands = [i for i, ch in enumerate(name) if ch in vocab.TYPO_CHARS]
    if not cands:
        return name + name[-1]  # a doubled last character
    i = cands[int(rng.integers(0, len(cands)))]
    return name[:i] + vocab.TYPO_CHARS[name[i]] + name[i + 1 :]


def _build_compounds(
    rng: np.random.Generator, grids: pl.DataFrame, streets: pl.DataFrame
) -> pl.DataFrame:
    """Residential compounds (one road number each), ~3 per ordinary grid."""
    ordinary = grids.filter(pl.col("grid_type") != "专属网格")
    per_grid = np.maximum(1, rng.poisson(3.0, ordinary.height))
    rep = np.repeat(np.arange(ordinary.height), per_grid)
    n = len(rep)
    gi = ordinary["grid_idx"].to_numpy()[rep]
    street_of = ordinary["street_idx"].to_numpy()[rep]
    dist_of = ordinary["district_idx"].to_numpy()[rep]
    rural = ordinary["grid_type"].to_numpy()[rep] == "农村网格"

    pool = _road_pool()
    roads = np.empty(n, dtype=object)
    numbers = np.zeros(n, dtype=np.int64)
    road_typos: dict[str, str] = {}
    # Each street has a handful of roads; road names are unique within a district.
    for d in np.unique(dist_of):
        in_d = np.flatnonzero(dist_of == d)
        d_streets = np.unique(street_of[in_d])
        per_street = max(2, int(np.ceil(len(in_d) / len(d_streets) / 8)))
        names = rng.choice(pool, size=min(len(pool), per_street * len(d_streets)), replace=False)
        for j, s in enumerate(d_streets):
            own = names[(j * per_street) % len(names) : (j * per_street) % len(names) + per_street]
            idx = in_d[street_of[in_d] == s]
            r = own[rng.integers(0, len(own), len(idx))]
            roads[idx] = r
            for rn in own:
                sel = idx[r == rn]
                numbers[sel] = (
                    2 * np.arange(len(sel)) + 1 + 2 * rng.integers(0, 3, len(sel)).cumsum()
                )
    for rn in sorted(set(roads.tolist())):
        road_typos[rn] = _typo(rn, rng)
    lonlat = np.array([DISTRICT_CENTRES[vocab.DISTRICTS[d][0]] for d in dist_of]).reshape(n, 2)
    street_jitter = rng.normal(0, 0.06, (len(streets), 2))
    lonlat = lonlat + street_jitter[street_of] + rng.normal(0, 0.012, (n, 2))
    comp_names = np.char.add(
        np.array(vocab.PLACE_SYLLABLES)[rng.integers(0, len(vocab.PLACE_SYLLABLES), n)],
        _pick(rng, vocab.COMPOUND_SUFFIXES, n),
    )
    return pl.DataFrame(
        {
            "comp_idx": np.arange(n),
            "grid_idx": gi,
            "road": roads.astype(str),
            "road_typo": np.array([road_typos[r] for r in roads]),
            "number": numbers,
            "compound_name": comp_names,
            "buildings": np.where(rural, rng.integers(1, 4, n), rng.integers(2, 30, n)),
            "floors": np.where(rural, rng.integers(2, 4, n), rng.integers(5, 19, n)),
            "units": rng.integers(2, 5, n),
            "lon": lonlat[:, 0],
            "lat": lonlat[:, 1],
        }
    )


def _build_houses(
    rng: np.random.Generator,
    residents: int,
    compounds: pl.DataFrame,
    grids: pl.DataFrame,
    start: np.datetime64,
    end: np.datetime64,
    world: World,
) -> pl.DataFrame:
    gr, conf, registry = world.get("group_rental"), world.get("confounders"), world.get("registry")
    ref_year = int(str(end)[:4])
    target = max(200, round(residents / 1000 * RENTALS_PER_THOUSAND))
    m = int(target * 1.15) + 50
    size = (compounds["buildings"] * compounds["floors"] * compounds["units"]).to_numpy()
    ci = rng.choice(compounds.height, m, p=size / size.sum())
    b = (rng.random(m) * compounds["buildings"].to_numpy()[ci]).astype(np.int64) + 1
    fl = (rng.random(m) * compounds["floors"].to_numpy()[ci]).astype(np.int64) + 1
    un = (rng.random(m) * compounds["units"].to_numpy()[ci]).astype(np.int64) + 1
    room = fl * 100 + un
    key = ci.astype(np.int64) * 10_000_000 + b * 10_000 + room
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)[:target]
    rng.shuffle(keep)
    ci, b, room = ci[keep], b[keep], room[keep]
    n = len(keep)

    comp = compounds.select("comp_idx", "grid_idx", "lon", "lat")[ci]
    g = grids.select("grid_idx", "district", "district_code", "street", "community")
    df = (
        pl.DataFrame({"comp_idx": ci, "building": b, "room": room})
        .hstack(comp.select("grid_idx", "lon", "lat"))
        .join(g, on="grid_idx", how="left", maintain_order="left")
    )

    # Labels: planted group rentals (~0.8%) and confounders (~0.25% each), at least a few;
    # the shares, the mix of kinds and how crowded they are come from the world.
    n_group = max(12, round(n * gr["share"]))
    labels = np.full(n, "normal", dtype=object)
    kinds = np.full(n, "", dtype=object)
    order = rng.permutation(n)
    pos = 0
    n_over = min(n_group - 2, max(2, round(n_group * gr["overcrowded_share"])))
    for k in range(n_group):
        labels[order[pos]] = "group_rental"
        kinds[order[pos]] = GROUP_KINDS[0] if k < n_over else GROUP_KINDS[1]
        pos += 1
    for kind in CONFOUNDER_KINDS:
        for _ in range(max(4, round(n * conf[f"{kind}_share"]))):
            labels[order[pos]] = "confounder"
            kinds[order[pos]] = kind
            pos += 1

    area = np.clip(rng.lognormal(np.log(78), 0.35, n), 25, 260)
    rooms = np.clip(1 + (area // 38).astype(np.int64), 1, 5)
    mode = rng.choice(np.array(["整租", "合租", "分租"]), n, p=[0.72, 0.2, 0.08])
    tenants = np.clip(
        rng.integers(1, 4, n) + (mode != "整租") * rng.integers(0, 2, n), 1, rooms + 1
    )

    def put(
        kind: str, a: tuple[float, float], r: tuple[int, int], modes: list[str], t: tuple[int, int]
    ) -> None:
        sel = np.flatnonzero(kinds == kind)
        area[sel] = rng.uniform(*a, len(sel))
        rooms[sel] = rng.integers(r[0], r[1] + 1, len(sel))
        mode[sel] = np.array(modes)[rng.integers(0, len(modes), len(sel))]
        tenants[sel] = rng.integers(t[0], t[1] + 1, len(sel))

    t_over = int(gr["overcrowded_tenants_min"])
    put(
        "overcrowded",
        (42, 100),
        (2, 4),
        ["分租", "合租"],
        (t_over, t_over + int(gr["overcrowded_tenants_span"])),
    )
    put("under_registered", (50, 110), (2, 4), ["整租", "合租"], (1, 2))
    a_family = float(conf["large_family_area_min"])
    put("large_family", (a_family, a_family + 70), (3, 5), ["整租"], (6, 9))
    put("staff_dormitory", (140, 320), (6, 12), ["整租"], (12, 30))
    put("student_housing", (70, 130), (3, 5), ["合租"], (4, 8))
    put("flat_share", (80, 130), (3, 4), ["合租"], (3, 4))

    # Who truly lives there: the registered tenants, except in group rentals, where more
    # people live than the registry says (or as many as it says, for overcrowded ones).
    occ_lo = int(gr["occupants_min"])
    occupants = tenants.copy()
    grp = labels == "group_rental"
    occupants[grp] = np.maximum(
        tenants[grp], rng.integers(occ_lo, occ_lo + int(gr["occupants_span"]) + 1, int(grp.sum()))
    )
    # The registry's accuracy: ordinary houses' tenant counts go stale or are mistyped,
    # and areas are measured or copied loosely (planted houses keep their defining counts).
    ordinary = labels == "normal"
    off = (rng.random(n) < registry["tenant_error_share"]) & ordinary
    err = rng.choice(np.array([-2, -1, 1, 2, 3]), n, p=[0.15, 0.3, 0.3, 0.15, 0.1])
    tenants = np.where(off, np.maximum(1, tenants + err), tenants)
    area = np.clip(area * np.exp(rng.normal(0, 1, n) * registry["area_error_sd"]), 12, 400)

    status = rng.choice(np.array(["在租", "空置", "已注销"]), n, p=[0.8, 0.15, 0.05])
    status[labels != "normal"] = "在租"
    # Registered mostly before the period (delivered by the first monthly dump).
    t0 = start.astype("datetime64[s]") - np.timedelta64(4 * 365 * 86400, "s")
    span = int((end.astype("datetime64[s]") - t0) / np.timedelta64(1, "s"))
    before = int((start.astype("datetime64[s]") - t0) / np.timedelta64(1, "s"))
    # ~12% of the registry is registered during the period (daily increments).
    offs = np.where(rng.random(n) < 0.88, rng.integers(0, before, n), rng.integers(before, span, n))
    offs[labels != "normal"] = rng.integers(0, before, int((labels != "normal").sum()))
    reg = t0 + offs.astype("timedelta64[s]")
    lease_start = (reg + rng.integers(0, 20, n).astype("timedelta64[D]")).astype("datetime64[D]")
    lease_end = lease_start + (365 * rng.integers(1, 3, n)).astype("timedelta64[D]")

    # Landlords: ~12% own more than one house (same person, same ID number).
    n_ll = max(1, int(n * 0.9))
    owner = rng.integers(0, n_ll, n)
    ll_region = grids["district_code"].to_numpy()[rng.integers(0, grids.height, n_ll)].astype("U6")
    ll_ids = people.id_numbers(
        rng, ll_region, people.birth_days(rng, n_ll, 30, 80, ref_year), rng.random(n_ll) < 0.55
    )
    ll_names = people.names(rng, n_ll)
    ll_phone = np.where(
        rng.random(n_ll) < 0.9, people.mobiles(rng, n_ll), people.landlines(rng, n_ll)
    )

    return df.with_columns(
        house_id=pl.Series(
            [
                f"CZFW{c}{i:07d}"
                for c, i in zip(df["district_code"].to_list(), range(1, n + 1), strict=True)
            ]
        ),
        floor_area_m2=pl.Series(np.round(area, 1)),
        rooms=pl.Series(rooms),
        rent_mode=pl.Series(mode),
        registered_tenants=pl.Series(tenants),
        occupants=pl.Series(occupants),
        lease_start=pl.Series(lease_start),
        lease_end=pl.Series(lease_end),
        registered_at=pl.Series(reg.astype("datetime64[ms]")),
        status=pl.Series(status),
        landlord_name=pl.Series(ll_names[owner]),
        landlord_id_number=pl.Series(ll_ids[owner]),
        landlord_phone=pl.Series(ll_phone[owner]),
        label=pl.Series(labels.astype(str)),
        kind=pl.Series(kinds.astype(str)),
        lon=pl.col("lon") + pl.Series(rng.normal(0, 0.0005, n)),
        lat=pl.col("lat") + pl.Series(rng.normal(0, 0.0005, n)),
    ).with_row_index("house_idx")
