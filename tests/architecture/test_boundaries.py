"""The import rules hold on the tree, and each rule catches a deliberate violation in a copy of it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("swapengine", "adstudio", "evals")
LINT_IMPORTS = [str(Path(sys.executable).parent / "lint-imports")]


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINT_IMPORTS, str(ROOT / ".importlinter"), "--no-cache", "--no-logo"],
                          cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


def cycles(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "import_cycles.py")], cwd=tree,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the three packages' sources, to break on purpose."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def add_line(path: Path, line: str) -> str:
    original = path.read_text()
    path.write_text(original + "\n" + line + "\n")
    return original


def test_the_tree_keeps_every_contract() -> None:
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" not in done.stdout.lower().replace("0 broken", "")


def test_the_tree_has_no_import_cycle() -> None:
    done = cycles(ROOT)
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip().endswith("0 import cycles")


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("swapengine/media/__init__.py", "import django.conf", "The engine imports no Django"),
        ("swapengine/faces/__init__.py", "import adstudio.settings", "The engine imports no Django"),
        ("swapengine/render_stage_probe.py", "import evals", "The engine imports no Django"),
        ("adstudio/urls.py", "from swapengine.media import probe", "only the engine's top level"),
        ("swapengine/media/__init__.py", "from swapengine.faces import analysis", "no upward import"),
        ("swapengine/swap/__init__.py", "import swapengine.voice", "no upward import"),
        ("adstudio/trust/__init__.py", "import adstudio.renders.models", "The web apps form layers"),
        ("adstudio/catalog/__init__.py", "import adstudio.studio.admin", "The web apps form layers"),
    ],
)
def test_a_violation_is_caught(tree: Path, module: str, line: str, contract: str) -> None:
    path = tree / module
    original = add_line(path, line) if path.exists() else None
    if original is None:
        path.write_text(line + "\n")
    try:
        done = lint(tree)
    finally:
        if original is None:
            path.unlink()
        else:
            path.write_text(original)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{contract}" in done.stdout
    assert "BROKEN" in done.stdout


def test_a_cycle_is_caught(tree: Path) -> None:
    media = tree / "swapengine" / "media" / "__init__.py"
    original = add_line(media, "import swapengine.errors")
    errors = tree / "swapengine" / "errors.py"
    errors_original = add_line(errors, "import swapengine.media")
    try:
        done = cycles(tree)
    finally:
        media.write_text(original)
        errors.write_text(errors_original)
    assert done.returncode == 1
    assert "import cycle: swapengine.errors <-> swapengine.media" in done.stdout
