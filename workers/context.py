"""The Runtime a worker process's jobs use (jobs take ids, not connections).

The worker entry point installs it once; jobs call ``current_runtime()``. In a process with no
runtime installed (e.g. a job run from a fresh interpreter) it is built from settings.
"""
from __future__ import annotations

from ussd_gateway.runtime import Runtime

_runtime: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def current_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        from ussd_gateway.runtime import build_runtime, ensure_local_secrets
        from ussd_gateway.settings import load_settings

        _runtime = build_runtime(ensure_local_secrets(load_settings()))
    return _runtime
