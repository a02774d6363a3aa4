"""The fault run's short form (issue 17): `scripts/chaos.py` on a private stack, its cheapest experiments.

A worker process group SIGKILLed mid-sync and the pool answering 500 / 503 / hang / truncated JSON: nothing lost
or doubled against the pool's own answers, no stuck account shown "In step", every account syncing again. The
script starts everything itself (PostgreSQL, Redis, the sandbox, workers, beat) on free ports, so this test
shares nothing with the suite but the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow]


def test_the_short_fault_run_loses_and_doubles_nothing_and_never_shows_a_stuck_account_in_step():
    run = subprocess.run(
        [sys.executable, "scripts/chaos.py", "--accounts", "3", "--rounds", "1", "--experiments",
         "worker_kill,pool_faults", "--interval-s", "10", "--lease-s", "5", "--seed", "17", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.stdout, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["failures"] == [], report["failures"]
    assert run.returncode == 0, run.stderr[-3000:]
    by_name = {e["experiment"]: e for e in report["experiments"]}
    assert set(by_name) == {"worker_kill", "pool_faults"}
    for experiment in by_name.values():
        assert sum(experiment["lost"].values()) == 0 and sum(experiment["doubled"].values()) == 0
        assert experiment["compared"]["rewards"] > 0 and experiment["compared"]["hashrate_points"] > 0
        for round_ in experiment["rounds"]:
            assert round_["shown_in_step_while_stuck"] == 0 and round_["recovered"]
    # The SIGKILL caught a sync in flight: the experiment measured a real interruption, not an idle fleet.
    assert by_name["worker_kill"]["rounds"][0]["interrupted"] >= 1
    assert len(by_name["pool_faults"]["rounds"]) == 4  # 500, 503, hang, malformed JSON
