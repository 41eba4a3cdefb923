"""Kernel context: what a notebook's kernel shares with an agent — only what the user names.

Variables (``%%glue --with df`` or ``@df``) become bounded Markdown descriptions, the last
error becomes its traceback and the failing cell's source (``%glue fix``), the notebook
becomes a link to its file and, with ``--cells``, its cells' source. Each is a context block
of docs/contract.md ("Prompt context"); the magics send them with the prompt.

Runs inside the user's kernel: stdlib only at import, pandas/polars/NumPy looked at only when
the user already imported them, and nothing of the user's objects is run beyond safe
introspection (``guard``) within a time budget that keeps the kernel responsive.
"""

from .describe import describe_variable
from .errors import LastError, last_error
from .mentions import mentioned_names, variables_context

__all__ = ["LastError", "describe_variable", "last_error", "mentioned_names", "variables_context"]
