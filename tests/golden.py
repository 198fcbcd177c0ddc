"""Golden-frame helpers: load fixtures written from bybit-v5.md and compare wire shapes to them."""

from __future__ import annotations

import json
import re
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")

# The only deviations from "same keys, same JSON type" that the checker tolerates:
# * a field whose expected value is "" may hold any string (otherwise a numeric expected
#   string requires a numeric actual string or "", the doc's "unset" encoding);
# * the fields in FLEXIBLE_TYPES may hold any of the listed JSON type categories;
# * the fields in MAP_FIELDS are open maps (coin -> amount, {} when empty): their keys may
#   differ, and every actual value is compared to the first expected value.
FLEXIBLE_TYPES: dict[str, frozenset[str]] = {
    "extraFees": frozenset({"str", "list"}),
    "preListingInfo": frozenset({"null", "dict"}),
}
MAP_FIELDS = frozenset({"cumFeeDetail"})


def load_fixture(name: str) -> dict:
    """Parse tests/fixtures/<name> (".json" optional)."""
    filename = name if name.endswith(".json") else f"{name}.json"
    with (FIXTURES / filename).open(encoding="utf-8") as handle:
        return json.load(handle)


def json_type(value: object) -> str:
    """The JSON type category of a value (bool is not int)."""
    if value is None:
        return "null"
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (dict, "dict"), (list, "list")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _key_of(path: str) -> str:
    """The last object key in a JSONPath-like path ("$.a[0].b" gives "b")."""
    return path.rsplit(".", 1)[-1].split("[", 1)[0]


def _string_errors(actual: str, expected: str, path: str) -> list[str]:
    """A numeric expected string demands a numeric (or empty) actual string."""
    if expected == "" or not _NUMERIC.match(expected):
        return []
    if actual == "" or _NUMERIC.match(actual):
        return []
    return [f"{path}: expected a numeric string like {expected!r}, got {actual!r}"]


def _map_errors(actual: dict, expected: dict, path: str) -> list[str]:
    """Every value of an open map compared to the first expected value."""
    if not expected:
        return []
    sample = next(iter(expected.values()))
    errors: list[str] = []
    for key, value in actual.items():
        errors += shape_errors(value, sample, f"{path}.{key}")
    return errors


def _dict_errors(actual: dict, expected: dict, path: str) -> list[str]:
    """Missing keys, extra keys, and the errors of every shared key."""
    if _key_of(path) in MAP_FIELDS:
        return _map_errors(actual, expected, path)
    errors = [f"{path}.{key}: missing" for key in expected if key not in actual]
    errors += [f"{path}.{key}: unexpected extra key" for key in actual if key not in expected]
    for key, value in expected.items():
        if key in actual:
            errors += shape_errors(actual[key], value, f"{path}.{key}")
    return errors


def _list_errors(actual: list, expected: list, path: str) -> list[str]:
    """Every actual item compared to the first expected item (skipped when expected is empty)."""
    if not expected:
        return []
    errors: list[str] = []
    for index, item in enumerate(actual):
        errors += shape_errors(item, expected[0], f"{path}[{index}]")
    return errors


def shape_errors(actual: object, expected: object, path: str = "$") -> list[str]:
    """Every shape difference between actual and expected, each prefixed with its path."""
    got, want = json_type(actual), json_type(expected)
    allowed = FLEXIBLE_TYPES.get(_key_of(path))
    if allowed is not None and got in allowed and want in allowed:
        return []
    if got != want:
        return [f"{path}: expected {want} like {expected!r}, got {got} {actual!r}"]
    if isinstance(actual, dict) and isinstance(expected, dict):
        return _dict_errors(actual, expected, path)
    if isinstance(actual, list) and isinstance(expected, list):
        return _list_errors(actual, expected, path)
    if isinstance(actual, str) and isinstance(expected, str):
        return _string_errors(actual, expected, path)
    return []


def assert_shape(actual: object, expected: object, path: str = "$") -> None:
    """Fail listing every key or type difference between actual and expected."""
    errors = shape_errors(actual, expected, path)
    assert not errors, "wire shape mismatch:\n  " + "\n  ".join(errors)


def assert_matches_golden(actual: object, fixture_name: str) -> None:
    """Fail unless actual has the shape of the named golden fixture."""
    assert_shape(actual, load_fixture(fixture_name))
