"""The 12345 hotspots (mart_hotline_hotspots) on the session's run of the sample: every
ticket with a street and an address naming a road and number is counted at its place,
and a place's position is where the rental registry has dwellings there."""

from __future__ import annotations

import pytest

from contracts.settings import Settings
from tests.ingest.conftest import query

pytestmark = pytest.mark.slow


def test_every_placed_ticket_counts_once_at_its_place(built_warehouse: Settings) -> None:
    by_month = dict(
        query(
            built_warehouse,
            "select month, sum(tickets) from marts.mart_hotline_hotspots group by month",
        )
    )
    # independently: tickets whose address has '<road><n>号' (any district/street prefix)
    expected = dict(
        query(
            built_warehouse,
            "select strftime(received_month, '%Y-%m'), count(*) from marts.fct_hotline_tickets "
            "where not is_cancelled and street is not null "
            "and regexp_matches(address_norm, '[0-9]+号') group by 1",
        )
    )
    assert by_month and by_month == expected
    # most of the sample's complaints name a place (else the map would show nothing)
    (placed, total) = query(
        built_warehouse,
        "select (select sum(tickets) from marts.mart_hotline_hotspots), count(*) "
        "from marts.fct_hotline_tickets where not is_cancelled",
    )[0]
    assert placed >= 0.5 * total


def test_a_places_position_lies_among_the_dwellings_registered_there(
    built_warehouse: Settings,
) -> None:
    # independently of the address parser: the dwellings of the district whose address
    # contains the place's text (a superset of the place's own: 东工农路8号 holds 工农路8号)
    checked = query(
        built_warehouse,
        """
        select h.place, h.lon, h.lat, h.registered_dwellings,
               min(d.lon), max(d.lon), min(d.lat), max(d.lat), count(*)
        from marts.mart_hotline_hotspots h
        join marts.dim_dwelling d
          on d.district = h.district and contains(d.address_norm, h.place)
        where h.place_rank <= 30 and h.lon is not null
        group by all
        """,
    )
    assert len(checked) >= 20
    for place, lon, lat, n, lon_lo, lon_hi, lat_lo, lat_hi, dwellings in checked:
        assert 1 <= n <= dwellings, place
        assert lon_lo - 1e-9 <= lon <= lon_hi + 1e-9, place
        assert lat_lo - 1e-9 <= lat <= lat_hi + 1e-9, place
