"""Reads a NET_AUDIT_LOG written by sitecustomize.py: every call that would have left loopback."""

from __future__ import annotations

import json
from pathlib import Path

HOOK_DIR = Path(__file__).resolve().parent


def records(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def outbound(log: Path) -> list[dict]:
    """Every lookup, connect, send or bind in ``log`` whose address is not on loopback (each was refused)."""
    return [r for r in records(log) if r["outbound"]]
