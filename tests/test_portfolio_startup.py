"""`lmreview --help` lists every command without importing them; each command still loads with its own help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from lmreview.cli.main import COMMANDS, LazyGroup, app, load_command
from tests.conftest import ROOT, SAMPLES


@pytest.mark.parametrize("name", list(COMMANDS))
def test_listed_help_is_the_command_help(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    first_paragraph = (command.help or "").split("\n\n")[0].strip()
    assert " ".join(first_paragraph.split()) == COMMANDS[name].help


def test_help_lists_every_command_in_order() -> None:
    root = typer_root()
    ctx = root.make_context("lmreview", [], resilient_parsing=True)
    assert root.list_commands(ctx) == list(COMMANDS)
    assert root.get_command(ctx, "no-such-command") is None
    # Walking the mapping, as tools that list every command do, builds each command.
    assert [(name, command.name) for name, command in root.commands.items()] == [(n, n) for n in COMMANDS]


def typer_root() -> LazyGroup:
    group = get_command(app)
    assert isinstance(group, LazyGroup)
    return group


def test_help_imports_neither_the_orm_nor_the_commands() -> None:
    script = (
        "import sys\n"
        "from lmreview.cli.main import main\n"
        "sys.argv = ['lmreview', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = [m for m in ('sqlalchemy', 'alembic', 'pydantic_settings', 'lmreview.cli.portfolio',"
        " 'lmreview.analysis.audit') if m in sys.modules]\n"
        "print('LOADED', loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    ).stdout
    assert "Commands:" in out
    assert "evidence" in out
    assert "LOADED []" in out


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_a_command_in_a_fresh_process_sees_every_table(tmp_path: Path) -> None:
    """`user add` imports no portfolio module, yet its audit event refers to import_batch: the store loads every
    stage's tables itself now that the command modules are imported one at a time."""
    lmreview = [sys.executable, "-c", "from lmreview.cli.main import main; main()", "--db", str(tmp_path / "u.db")]
    out = subprocess.run(
        [*lmreview, "user", "add", "ana", "--role", "admin", "--password-stdin"],
        input="a-long-enough-password\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert "Added admin ana" in out.stdout


def test_stats_reads_with_core_and_loads_no_other_stage(tmp_path: Path) -> None:
    """`stats --json` reads the tables with Core: the ORM never configures its mappers, so the models of the other
    stages (and pydantic-settings) are never imported; a command that then uses the ORM gets every stage's tables
    (the before_configured hook in store/base.py), as `user add` above shows."""
    db = str(tmp_path / "s.db")
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    lmreview = [sys.executable, "-c", "from lmreview.cli.main import main; main()", "--db", db]
    sample = SAMPLES / "lm2016.csv"
    imported = subprocess.run([*lmreview, "portfolio", "import", str(sample), "--portfolio", "p"], env=env, check=False)
    assert imported.returncode == 0
    script = (
        "import sys\n"
        "from lmreview.cli.main import main\n"
        f"sys.argv = ['lmreview', '--db', {db!r}, 'stats', '--portfolio', 'p', '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "modules = ('pydantic_settings', 'alembic', 'lmreview.store.registry', 'lmreview.coding.models',"
        " 'lmreview.evidence.models', 'lmreview.tracking.models')\n"
        "print('LOADED', [m for m in modules if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    assert '"projects":' in out
    assert "LOADED []" in out
