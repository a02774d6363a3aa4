"""The suite gives the same result at any time of any day: the time-sensitive tests, re-run with the wall clock
faked at the awkward instants (just after midnight, the worker-offline hours of the old failure, one minute to
midnight, a month's last day, 29 February). Each run is a fresh pytest process on its own database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]

# Tests whose results could depend on the hour or the date (clocks, windows, months), run at each instant.
TIME_SENSITIVE = [
    "tests/mining/test_sync.py::test_first_sync_copies_every_dataset",
    "tests/mining/test_sync.py::test_payout_drift_is_flagged_and_cleared",
    "tests/mining/test_sync.py::test_reward_status_moves_are_applied_recorded_and_never_go_back",
    "tests/mining/test_sync.py::test_watcher_links_are_copied_and_deactivated_when_gone",
    "tests/mining/test_sync.py::test_hourly_points_are_the_mean_of_their_five_minute_points",
    "tests/mining/test_copy_equals_pool.py",  # the copy equals the pool, whatever the day (issue 16)
    "tests/mining/test_assignment.py::test_a_move_keeps_the_past_with_the_old_customer",
    "tests/mining/test_alerts.py",
    "tests/portal/test_fleet_pages.py",
    "tests/billing/test_golden.py",  # months, February, late rewards after a close
    "tests/access/test_sessions.py",  # idle and absolute timeouts
    "tests/portal/test_user_timezone.py",  # times shown in the user's zone (its date differs from UTC's at night)
]

INSTANTS = [
    "2026-11-24T00:30:00Z",
    "2026-11-24T08:59:00Z",
    "2026-11-24T23:59:00Z",
    "2026-11-30T23:59:30Z",  # a month's last day, the minute before the month turns
    "2028-02-29T12:00:00Z",
]


@pytest.mark.slow
@pytest.mark.parametrize("instant", INSTANTS)
def test_time_sensitive_tests_pass_at(instant):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    # Its own database, and its own nonce keys in Redis (nonces only go forward, and this run's clock is faked).
    env = {**os.environ, "TEST_DATABASE_NAME": f"{settings.DATABASES['default']['TEST']['NAME']}_clock_{worker}",
           "WHITEBIT_REDIS_PREFIX": f"clock-{instant}-{uuid.uuid4().hex[:8]}:"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", f"--fake-now={instant}",
         *TIME_SENSITIVE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"wall clock faked at {instant}" in result.stdout
    assert " passed" in result.stdout and "failed" not in result.stdout
