"""City look-up for the campaign map: name matching, the most populous match, and the country fallback."""

from __future__ import annotations

import pytest

from domain.locations import fold, locate, public_coordinate


def test_fold_ignores_case_and_accents():
    assert fold("  Saint-Étienne ") == "saint-etienne"
    assert fold("MÜNSTER") == "munster"


@pytest.mark.parametrize("city", ["Saint-Étienne", "saint-etienne", "SAINT-ETIENNE"])
def test_city_found_whatever_its_spelling(city):
    place = locate(city, "FR")

    assert place.approximate is False
    assert place.latitude == pytest.approx(45.43, abs=0.01)
    assert place.longitude == pytest.approx(4.39, abs=0.01)


def test_most_populous_city_of_a_name_wins():
    # Germany has a Münster in Westphalia (about 300,000 people) and a smaller one in Lower Saxony.
    place = locate("Münster", "DE")

    assert place.latitude == pytest.approx(51.96, abs=0.01)
    assert place.longitude == pytest.approx(7.63, abs=0.01)


def test_alternate_name_matches():
    assert locate("Köln", "DE") == locate("Cologne", "DE")
    assert locate("Torino", "it").approximate is False


def test_city_looked_up_within_its_country():
    spain = locate("Valencia", "ES")
    venezuela = locate("Valencia", "VE")

    assert spain.longitude == pytest.approx(-0.38, abs=0.05)
    assert venezuela.longitude == pytest.approx(-68.0, abs=0.2)


def test_unknown_city_falls_back_to_country_centre():
    place = locate("Nowhere-sur-Mer", "FR")

    assert place.approximate is True
    assert 46 < place.latitude < 48.5
    assert 1.5 < place.longitude < 4


def test_public_coordinate_rounds_to_town_level():
    assert public_coordinate(45.767312) == 45.77
    assert public_coordinate(None) is None
