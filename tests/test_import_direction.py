"""The import direction (README "Architecture"): fpr ← households ← monitoring ← assistance ← workflow ←
reports. A module imports only from its own app or from the apps to its left — at the top of the file or
inside a function alike (a function-level import against the direction is the same dependency, only
hidden). The project's wiring (the URL confs, which mount every app's pages) is the one exception."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["fpr", "households", "monitoring", "assistance", "workflow", "reports"]
# Wiring: the site's URL confs include every app's urls; nothing else in fpr may look right.
WIRING = {"fpr/urls.py", "fpr/api_urls.py"}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import statement in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def modules():
    for app in ORDER:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative and relative not in WIRING:
                yield relative


def test_no_module_imports_against_the_direction():
    wrong = []
    for relative in modules():
        rank = ORDER.index(relative.split("/")[0])
        for line, module in imports_of(ROOT / relative):
            top = module.split(".")[0]
            if top in ORDER and ORDER.index(top) > rank:
                wrong.append(f"{relative}:{line} imports {module}")
    assert wrong == []


@pytest.mark.parametrize("source", ["from reports.exports import runner\n", "def f():\n    import workflow.services\n"])
def test_the_check_sees_a_top_level_and_a_function_level_import(tmp_path, source):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert [module.split(".")[0] for _, module in imports_of(path)] in (["reports"], ["workflow"])
