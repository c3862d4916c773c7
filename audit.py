"""The audit log: one structured line per security-relevant connection event.

Never message text, never tokens: only who, from where, what and why.
"""
from __future__ import annotations

import logging

log = logging.getLogger("switchboard.audit")


def audit(action: str, **fields) -> None:
    log.info(action, extra={"audit": {"action": action, **fields}})
