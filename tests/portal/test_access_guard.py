"""Views, the API, the portal's helpers and the tasks reach tenant data only through tenants.access (selectors and
services use it for them).

A view that writes `Model.objects.get(pk=…)` skips the scope and would serve another tenant's row; this test keeps
that from creeping in, the way a linter rule would. It reads every module under `portal/` recursively (before, a
non-recursive glob never read `views/staff`, `views/customer`, `views/accounts` or `portal/api`, so it could not
fail for them) and every app's task modules.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The management commands compose every app on purpose (seed, demo, retention): they are the top layer's scripts.
# beat.py keeps the scheduler's own tables (django-celery-beat), which hold no tenant data.
EXCLUDED = {ROOT / "portal" / "management", ROOT / "portal" / "settings", ROOT / "portal" / "production.py",
            ROOT / "portal" / "beat.py"}
THIN_LAYERS = sorted(
    p for p in (ROOT / "portal").rglob("*.py")
    if not any(p == e or e in p.parents for e in EXCLUDED)
) + sorted(p for app in ("mining", "billing", "tenants") for p in (ROOT / app).glob("*tasks.py"))
QUERY = re.compile(r"\b[A-Z]\w*\.(objects|_default_manager)\.(?!none\(\))")
# A queryset handed to get_in_scope() is narrowed by the scope, so it is not a direct query.
THROUGH_SCOPE = re.compile(r"get_in_scope\(\s*[A-Z]\w*\.objects\.")


def _offenders(paths: list[Path], base: Path = ROOT) -> list[str]:
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if QUERY.search(line) and not THROUGH_SCOPE.search(line):
                found.append(f"{path.relative_to(base)}:{number}: {line.strip()}")
    return found


def test_views_api_and_tasks_never_query_models_directly():
    offenders = _offenders(THIN_LAYERS)
    assert not offenders, "query through tenants.access / selectors instead:\n" + "\n".join(offenders)


def test_the_guard_sees_the_files_it_guards_and_can_fail(tmp_path):
    names = {p.relative_to(ROOT).as_posix() for p in THIN_LAYERS}
    assert {"portal/views/console.py", "portal/views/staff/team.py", "portal/views/customer/workers.py",
            "portal/views/accounts/two_factor.py", "portal/api/base.py", "portal/timezones.py",
            "mining/tasks.py", "billing/tasks.py"} <= names
    bad = tmp_path / "bad_view.py"
    bad.write_text("def view(request, pk):\n    return Customer.objects.get(pk=pk)\n"
                   "def fine(request, scope, pk):\n    return get_in_scope(Customer.objects.all(), scope, pk=pk)\n")
    assert _offenders([bad], base=tmp_path) == ["bad_view.py:2: return Customer.objects.get(pk=pk)"]
