"""Code versions derived from the source of the logic each asset runs, so staleness is exact."""

import inspect
from types import ModuleType

from clinical.ids import sha256_text


def code_version(*modules: ModuleType) -> str:
    """A short hash of the source of `modules`: it changes exactly when their code changes."""
    return sha256_text("\n".join(inspect.getsource(m) for m in modules))[:16]
