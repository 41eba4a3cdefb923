"""What glue knows of, and controls in, the agent's own session beyond the transcript.

- options.py: the modes, models and config options the agent offers, what the user chose
  (re-applied after a resume), and the rule that a mode bypassing glue's permission policy
  is refused unless the policy is "allow".
- usage.py: context used of its size, cost and tokens, per turn and per session.
- listing.py: the agent's own list of sessions for a folder (ACP session/list), so that work
  begun elsewhere (e.g. Claude Code in a terminal) can be adopted as a glue session.
"""
