"""The page's Plotly.js is a partial bundle (static/vendor/plotly-basic/): it must draw every trace
type the page's scripts name (the sweep heatmap is HTML, not a Plotly trace). A trace type is a word in
`type: "..."` that the full plotly.js knows (the `plotly` package's trace classes); a trace without a
type is a scatter, which every bundle has."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objs as go
from playwright.sync_api import Page
from plotly.basedatatypes import BaseTraceType

SCRIPTS = Path(__file__).resolve().parents[2] / "static" / "js"
TYPE_LITERAL = re.compile(r"""\btype:\s*["'](\w+)["']""")


def all_trace_types() -> set[str]:
    """Every trace type of the full plotly.js, from the plotly package's trace classes."""
    classes = [getattr(go, name) for name in dir(go)]
    return {cls().type for cls in classes if isinstance(cls, type) and issubclass(cls, BaseTraceType)}


def trace_types_in_scripts() -> dict[str, set[str]]:
    """{trace type: the static/js files that name it}."""
    known = all_trace_types()
    found: dict[str, set[str]] = {}
    for script in sorted(SCRIPTS.rglob("*.js")):
        for word in TYPE_LITERAL.findall(script.read_text()):
            if word in known:
                found.setdefault(word, set()).add(script.name)
    return found


def test_the_bundle_draws_every_trace_type_the_scripts_name(page: Page) -> None:
    named = trace_types_in_scripts()
    assert "scatter" in named, "the scan should find the charts' scatter traces"
    page.goto("/")
    page.wait_for_function("() => window.Plotly !== undefined")
    bundled = set(page.evaluate("() => Object.keys(window.Plotly.PlotSchema.get().traces)"))
    missing = {kind: files for kind, files in named.items() if kind not in bundled}
    assert missing == {}, f"trace types the bundle lacks: {missing}; it has {sorted(bundled)}"
    assert len(bundled) < len(all_trace_types()), "this is the full bundle, not a partial one"
