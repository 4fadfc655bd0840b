"""What differs between two runs' configurations, field by field.

Two runs in History often differ in one parameter or one exit rule; a trader comparing
them needs to see which, not read two JSON documents. Nested settings (params, costs,
sizing, the exit policy, the data source) are flattened to dotted names.
"""

from __future__ import annotations

from typing import Any

Missing = object()


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _same(a: Any, b: Any) -> bool:
    # Lists read back from JSON and tuples made in memory are the same setting.
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b


def config_rows(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any, bool]]:
    """Every setting of either run as (dotted name, A's value, B's value, differs), in the
    order the configurations list them; a setting one run lacks is ``Missing`` there."""
    fa, fb = flatten(a), flatten(b)
    names = list(fa) + [n for n in fb if n not in fa]
    return [(n, fa.get(n, Missing), fb.get(n, Missing), not _same(fa.get(n, Missing), fb.get(n, Missing))) for n in names]


def shown(value: Any) -> str:
    if value is Missing:
        return "—"
    if value is None or value == "" or value == [] or value == ():
        return "off" if value is None else "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
