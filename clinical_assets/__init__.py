"""The Dagster asset graph: one module per pipeline stage, wired in `definitions.py`."""
