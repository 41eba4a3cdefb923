"""Which variables a prompt names: ``--with df,model`` and ``@df`` in a ``%%glue`` body.

Only names the user wrote are looked up, in the kernel's namespace; nothing else of the
kernel is sent. A ``--with`` name that is not defined is an error (nothing is sent); an
``@word`` that is not a variable is left as text (it may be a decorator or an address).
"""

from __future__ import annotations

import keyword
import re

from .describe import describe_variable

# "@df" at a word start: not "me@example.com", not "@@"; the name may not run into a dot
# followed by more name ("@df.columns" names df).
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z_]\w*)")


class UnknownVariables(ValueError):
    def __init__(self, names: list[str]):
        listed = ", ".join(names)
        super().__init__(f"not defined in this kernel: {listed} (nothing was sent)")
        self.names = names


def parse_with(value: str) -> list[str]:
    """The names of ``--with a,b c``: identifiers, in order, without repeats."""
    names = [n for n in re.split(r"[,\s]+", value.strip()) if n]
    bad = [n for n in names if not n.isidentifier() or keyword.iskeyword(n)]
    if bad:
        raise ValueError(f"--with takes variable names; not a name: {', '.join(bad)}")
    return list(dict.fromkeys(names))


def mentioned_names(text: str, namespace: dict) -> list[str]:
    """Names written as ``@name`` in `text` that are variables of `namespace`, in order."""
    return list(dict.fromkeys(n for n in MENTION.findall(text) if n in namespace))


def variables_context(names: list[str], namespace: dict) -> list[dict]:
    """A context block per name; UnknownVariables if any is not defined."""
    missing = [n for n in names if n not in namespace]
    if missing:
        raise UnknownVariables(missing)
    return [describe_variable(n, namespace[n]) for n in names]
