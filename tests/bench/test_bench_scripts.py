"""The benchmark scripts stay runnable: they import and answer ``--help`` (they are run by hand,
not timed in CI)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("script", ["ussd_load.py", "seed.py", "roundtrips.py", "run_all.py"])
def test_bench_script_prints_its_help(script: str) -> None:
    done = subprocess.run([sys.executable, str(BENCH / script), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_load_client_journeys_end_as_the_menus_do() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import ussd_load
    finally:
        sys.path.remove(str(BENCH))
    assert ussd_load.JOURNEYS["start"].last == "END"
    assert ussd_load.JOURNEYS["start"].inputs[-1] == "1"  # 1 Confirmer
    assert {"start", "follow", "lookup", "ceiling"} <= set(ussd_load.JOURNEYS)
