"""The package's shape as ARCHITECTURE.md and pyproject.toml give it: every module listed in the
architecture's table under its stage, every subpackage installed, and the layers contract that
fails the suite when an import points up the pipeline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "voiceguide"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LAYERS = [
    layer.removeprefix("voiceguide.")
    for layer in PYPROJECT["tool"]["importlinter"]["contracts"][0]["layers"]
]


def _modules() -> set[tuple[str, str]]:
    """(stage, module path within the stage) for every module of every stage, those of its own
    subpackages too (sound's engines/__init__.py holds the engine protocol), but not the
    `__init__.py` of a folder of data (language's catalogs/)."""
    return {
        (stage, path.relative_to(PACKAGE / stage).as_posix())
        for stage in LAYERS
        for path in (PACKAGE / stage).rglob("*.py")
        if path.name != "__init__.py"
        or (path.parent != PACKAGE / stage and len(list(path.parent.glob("*.py"))) > 1)
    }


def _documented() -> set[tuple[str, str]]:
    """(stage, module path within the stage) for every row of ARCHITECTURE.md's table of modules."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\w+) \| (`[^|]+`) \|", text, flags=re.MULTILINE)
    return {(stage, name) for stage, names in rows for name in re.findall(r"`([\w/]+\.py)`", names)}


def test_every_module_is_in_the_architectures_table_under_its_stage() -> None:
    assert _documented() == _modules()


def test_every_stage_is_a_layer_and_every_layer_a_stage() -> None:
    stages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert stages == set(LAYERS)


def test_every_subpackage_is_installed() -> None:
    packages = {
        "voiceguide." + ".".join(path.parent.relative_to(PACKAGE).parts)
        for path in PACKAGE.rglob("__init__.py")
        if path.parent != PACKAGE
    }
    installed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert packages <= installed


def test_every_stage_says_what_it_is() -> None:
    for stage in LAYERS:
        docstring = (PACKAGE / stage / "__init__.py").read_text(encoding="utf-8")
        assert docstring.startswith('"""') and len(docstring) > 80, stage


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    command = [Path(sys.executable).with_name("lint-imports"), "--no-cache", "--no-logo"]
    return subprocess.run(
        command, cwd=tree, capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
    )  # fmt: skip


@pytest.fixture
def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "voiceguide", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_layers_hold_as_the_package_is(copy_of_the_package: Path) -> None:
    result = _lint_imports(copy_of_the_package)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_import_up_the_pipeline_breaks_the_layers(copy_of_the_package: Path) -> None:
    """The timeline (script) importing the session (build) is what the contract is there to stop;
    a lazy import inside a function counts too."""
    timeline = copy_of_the_package / "voiceguide" / "script" / "timeline.py"
    timeline.write_text(
        timeline.read_text(encoding="utf-8")
        + "\n\ndef _upward() -> None:\n    from voiceguide.build import session  # noqa: F401\n",
        encoding="utf-8",
    )
    result = _lint_imports(copy_of_the_package)
    assert result.returncode == 1
    assert "voiceguide.script.timeline -> voiceguide.build.session" in result.stdout
