"""Metadata for people: Markdown tables and small plots shown in the Dagster UI."""

import base64
import io
from collections.abc import Sequence
from typing import Any

import dagster as dg

from clinical.artifact_links import artifact_links


def md_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> dg.MetadataValue:
    """A Markdown table of `rows` (dicts); floats are shown with 3 decimals."""
    if not rows:
        return dg.MetadataValue.md("_none_")
    cols = list(columns or rows[0].keys())

    def fmt(value: Any) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return dg.MetadataValue.md("\n".join(lines))


def counts_table(counts: dict[str, int], key: str, value: str = "count") -> dg.MetadataValue:
    return md_table([{key: k, value: v} for k, v in sorted(counts.items())], [key, value])


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png_markdown(fig: Any, title: str) -> dg.MetadataValue:
    """Render a figure as a Markdown image with an inline PNG, which the Dagster UI shows."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    _pyplot().close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def line_plot(
    series: dict[str, Sequence[tuple[float, float]]], title: str, xlabel: str, ylabel: str
) -> dg.MetadataValue:
    """A small line plot as a Markdown image (inline PNG), which the Dagster UI renders."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3), dpi=90)
    for name, points in series.items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, label=name, marker="." if len(points) < 40 else None)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend()
    return _png_markdown(fig, title)


def bar_plot(values: dict[str, dict[str, float]], title: str, ylabel: str) -> dg.MetadataValue:
    """Grouped bars: `values[group][category]`, e.g. F1 by entity type for base vs tuned."""
    plt = _pyplot()
    groups = list(values)
    categories = sorted({c for v in values.values() for c in v})
    fig, ax = plt.subplots(figsize=(5.5, 3), dpi=90)
    width = 0.8 / max(len(groups), 1)
    for i, group in enumerate(groups):
        xs = [j + i * width for j in range(len(categories))]
        ax.bar(xs, [values[group].get(c, 0.0) for c in categories], width=width, label=group)
    ax.set_xticks([j + width * (len(groups) - 1) / 2 for j in range(len(categories))], categories)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend()
    return _png_markdown(fig, title)


def links_metadata(warehouse: Any, artifact_id: str) -> dg.MetadataValue:
    """The `links` entry of an artifact's asset: its adapter, evaluation, promotion decision and model card
    (ids, short sha256, paths, links to their asset pages) and the gate decision (clinical/artifact_links.py)."""
    with warehouse.connect(read_only=True) as con:
        return dg.MetadataValue.md(artifact_links(con, artifact_id))
