"""Logic of the clinical LLM factory: plain functions on plain data, called by the Dagster assets,
the `clinical` command line and the tests."""

__version__ = "0.1.0"
