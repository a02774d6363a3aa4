"""Run a Python module with the wall clock shifted like the test run's own (`pytest --fake-now`).

Worker processes that tests start talk to the in-process sandbox pool, whose clock is faked with the test run's:
they must live at the same faked time, or their nonces would be hours off. Usage (what the tests do):
`python -m tests.fake_clock_run -m celery -A portal worker …` or `… manage.py run_sandbox …`; spawned
children call `follow_test_clock()`. Without TEST_CLOCK_OFFSET_S nothing changes.
"""

from __future__ import annotations

import os
import runpy
import sys
import time

_applied = False  # the test run's own process travels in conftest and sets this, so nothing travels twice


def follow_test_clock() -> None:
    """Shift this process's clock like the test run's (a no-op unless the run fakes its clock), once."""
    global _applied
    offset = os.environ.get("TEST_CLOCK_OFFSET_S")
    if offset and not _applied:
        import time_machine

        time_machine.travel(time.time() + float(offset), tick=True).start()
        _applied = True


def main() -> None:
    follow_test_clock()
    if len(sys.argv) >= 3 and sys.argv[1] == "-m":
        module = sys.argv[2]
        sys.argv = [module, *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    elif len(sys.argv) >= 2:
        sys.argv = sys.argv[1:]
        runpy.run_path(sys.argv[0], run_name="__main__")
    else:
        raise SystemExit("usage: python -m tests.fake_clock_run (-m MODULE | SCRIPT) [args …]")


if __name__ == "__main__":
    main()
