"""Nothing that matters lives only inside one web worker: every per-process cache and piece of module
state in server/ is listed here with why several hosts stay correct, and no worker runs a scheduler.

A new cache, module-level container or `global` fails this test until it is reviewed and listed.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"

# module:name -> why it is safe with many processes on many hosts.
REVIEWED = {
    "server.auth:_VERIFIED_ACCESS": "verified JWT claims only (signature, exp); whether the session is live is "
                                    "read from the database on every request, so a logout or a reused refresh "
                                    "token on one host ends the token on all (tests/hosts)",
    "server.services.gate.passes:_snapshot": "the pass-key rows, re-read every WUYE_PASS_KEY_REFRESH_SECONDS and "
                                             "at once for an unknown kid; the rows in the database are the truth, a "
                                             "rotation publishes before it signs (tests/hosts)",
    "server.services.gate.passes:_last_unknown_refresh": "a per-process brake on unknown-kid reloads",
    "server.services.gate.passes:_signing_keys": "decrypted signing keys keyed by the key snapshot and the secrets: "
                                                  "a rotation or a new secret makes a new key, the old entries go",
    "server.services.gate.passes:_db_keys": "each engine's URL as text, a pure function of the configuration",
    "server.services.gate.passes:_masks": "the pass-id mask, made once in the database and never changed",
    "server.services.gate.key_vault:_fernet_for": "a pure function of the configured secret",
    "server.services.gate.gate_posters:_truetype": "font files read from disk",
    "server.plumbing.pagination:page_of": "schema classes built from code",
    "server.scope:GUARD_COMPOUND_PROVIDERS": "wiring set by create_app, the same in every process",
    "server.scope:GUARD_GATE_CHECKS": "wiring set by create_app, the same in every process",
    "server:_PRAGMAS_INSTALLED": "installs the SQLite connection pragmas once per process",
    "server.auth:_CALLER": "the caller's SELECT compiled once per dialect from code; the row itself is read "
                           "from the database on every request",
    "server.services.gate.checkin_subjects:_GATE_AND_HOLDER": "the guard scan's SELECT compiled once per dialect "
                                                              "from code; its row is read on every scan",
    "server.services.gate.checkin_subjects:_GATE_BY_CODE_AND_RESIDENT": "the self scan's SELECT compiled once "
                                                                        "per dialect from code; its row is read "
                                                                        "on every scan",
    "server.services.gate.checkins:_STORED": "the self scan's look-up of a retry, compiled once per dialect from "
                                             "code; its row is read on every scan",
}
CACHE_CALLS = {"TLRUCache", "TTLCache", "LRUCache", "LFUCache", "Cache", "HotRead", "WeakKeyDictionary"}
CACHE_DECORATORS = {"lru_cache", "cache", "cached_property"}
SCHEDULERS = ("apscheduler", "schedule", "sched", "celery", "rq")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SERVER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _process_state(tree: ast.Module) -> set[str]:
    """Names of per-process caches and mutable module state in one module."""
    found = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) and node.value is not None else []
        value = getattr(node, "value", None)
        cache = isinstance(value, ast.Call) and _name(value) in CACHE_CALLS
        container = isinstance(value, (ast.Dict, ast.List, ast.Set)) or (
            isinstance(value, ast.Call) and _name(value) in {"dict", "list", "set", "defaultdict"})
        for target in targets:
            # UPPER_CASE tables are constants of the code; a lower-case container is state.
            if isinstance(target, ast.Name) and (cache or (container and not target.id.lstrip("_").isupper())):
                found.add(target.id)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(_name(d) in CACHE_DECORATORS for d in node.decorator_list):
                found.add(node.name)
        if isinstance(node, ast.Global):
            found.update(node.names)
    return found


def test_every_per_process_cache_is_reviewed():
    seen = set()
    for path in SERVER.rglob("*.py"):
        module = _module_name(path)
        seen |= {f"{module}:{name}" for name in _process_state(ast.parse(path.read_text(encoding="utf-8")))}
    unreviewed = sorted(seen - REVIEWED.keys())
    assert unreviewed == [], f"per-process state to review for several hosts (then list it above): {unreviewed}"
    assert sorted(REVIEWED.keys() - seen) == [], "listed but gone: drop it from REVIEWED"


def test_no_worker_runs_a_scheduler_or_a_thread():
    """Periodic work is `flask wuye ...` run from one scheduler (server/commands/jobs.py), never a worker."""
    offenders = []
    for path in SERVER.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [f"{path.name}: import {n}" for n in names if n.split(".")[0] in SCHEDULERS]
            if isinstance(node, ast.Call) and _name(node) in ("Thread", "Timer", "start_new_thread"):
                offenders.append(f"{path.name}:{node.lineno} starts a thread")
    assert offenders == []
