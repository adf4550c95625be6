"""``geo eval oscd --cities nantse``: the error named the cities there but not the one meant, where a mistyped AOI
id, claim id or --source is answered "did you mean ...?"."""

from __future__ import annotations

from tests.eval.oscd_fixture import write_city


def test_a_mistyped_city_is_answered_with_the_nearest_known_one(user):
    for name in ("nantes", "paris"):
        write_city(user.home / "oscd", name, shape=(48, 48), crop_px=0)
    for typed, meant in (("nantse", "nantes"), ("Paris", "paris")):
        result = user("eval", "oscd", "--root", "oscd", "--cities", f"{typed},paris", "--json", "scores.json")
        assert result.returncode == 1, result.output
        assert result.stderr.strip() == (
            f"Error: OSCD city '{typed}' not found under oscd (did you mean '{meant}'? have: nantes, paris)")
        assert not (user.home / "scores.json").exists()

    result = user("eval", "oscd", "--root", "oscd", "--cities", "lagos")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: OSCD city 'lagos' not found under oscd (have: nantes, paris)"
