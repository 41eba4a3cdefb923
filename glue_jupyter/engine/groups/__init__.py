"""Agent process groups that must never outlive glue_jupyter.

A stop ends an agent's whole process group; a server that dies without its shutdown (SIGKILL,
a crash, the OOM killer) cannot. Two nets catch what it leaves: a tiny watchdog process
(watchdog.py) that sees the server die and ends the groups at once, and a record of every
group in the database (keeper.py) that the next open ends if they are still ours. A group is
"ours" only when the OS proves it: its leader is the very process we started (same start
time, same boot) or a member carries the launch's marker in its environment. A recycled pid
is never signalled.
"""

from .keeper import MARKER_VARIABLE, GroupKeeper

__all__ = ["GroupKeeper", "MARKER_VARIABLE"]
