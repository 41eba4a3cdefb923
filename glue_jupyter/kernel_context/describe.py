"""One variable → one context block: a bounded Markdown description of its value.

pandas, polars and NumPy values are recognised by their exact types, looked up only in the
modules the user already imported (we never import them); anything else is described by its
type and a guarded, truncated repr.
"""

from __future__ import annotations

import sys

from .budget import DESCRIPTION_CHARS
from .guard import safe_repr, type_name
from .table import count

VARIABLE_URI = "jupyter://kernel/variables/{name}"


def _loaded_type(module: str, *path: str):
    """A class from a module only if the user imported that module already."""
    found = sys.modules.get(module)
    for part in path:
        found = getattr(found, part, None) if found is not None else None
    return found if isinstance(found, type) else None


def _describer(value):
    from . import arrays, frames

    kind = type(value)
    table = [
        (("pandas", "DataFrame"), frames.describe_pandas_frame),
        (("pandas", "Series"), frames.describe_pandas_series),
        (("polars", "DataFrame"), frames.describe_polars_frame),
        (("polars", "Series"), frames.describe_polars_series),
        (("numpy", "ndarray"), arrays.describe_ndarray),
    ]
    for (module, name), describe in table:
        cls = _loaded_type(module, name)
        if cls is not None and issubclass(kind, cls):
            return describe
    return describe_other


SIZED = (str, bytes, list, tuple, dict, set, frozenset)


def describe_other(name: str, value) -> tuple[str, str]:
    kind = type(value)
    title = f"{name}: {type_name(value)}"
    if kind in SIZED:  # exact builtin types: len() runs none of the user's code
        unit = "character" if kind is str else "byte" if kind is bytes else "item"
        title += f" of {count(len(value))} {unit}{'' if len(value) == 1 else 's'}"
    return title, f"{title}\n\n```\n{safe_repr(value)}\n```"


def describe_variable(name: str, value) -> dict:
    """The context block describing `value` under `name` (docs/contract.md, "Prompt context")."""
    describe = _describer(value)
    try:
        title, text = describe(name, value)
    except Exception as exc:  # a library's own surprise: say so rather than fail the prompt
        title, text = describe_other(name, value)
        text += f"\n\n(glue could not describe it in detail: {type(exc).__name__})"
    if len(text) > DESCRIPTION_CHARS:
        text = text[: DESCRIPTION_CHARS - 40] + "\n… (description truncated)"
    return {"type": "resource", "uri": VARIABLE_URI.format(name=name), "name": name, "title": title,
            "mime_type": "text/markdown", "text": text}
