"""Views and tasks reach tenant data only through tenants.access (selectors and services use it for them).

A view that writes `Model.objects.get(pk=…)` skips the scope and would serve another tenant's row; this test keeps
that from creeping in, the way a linter rule would.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIN_LAYERS = [*sorted((ROOT / "portal" / "views").glob("*.py")), ROOT / "mining" / "tasks.py"]


def test_views_and_tasks_never_query_models_directly():
    offenders = []
    for path in THIN_LAYERS:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"\b[A-Z]\w*\.objects\.", line) or "_default_manager" in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "query through tenants.access / selectors instead:\n" + "\n".join(offenders)


def test_the_guard_sees_the_files_it_guards():
    assert any(p.name == "console.py" for p in THIN_LAYERS) and (ROOT / "mining" / "tasks.py").exists()
