"""The documentation stays true to the code.

* ``docs/cli.md`` is the ``--help`` of every command, generated here; the test fails when the CLI has changed and the
  page has not. Regenerate it with ``LMREVIEW_UPDATE_DOCS=1 .venv/bin/pytest tests/test_docs.py``.
* Every setting (``LMREVIEW_*`` environment variable) is described in ``docs/architecture.md``.
* Every column and header alias of the portfolio file is described in ``docs/formats.md``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

from lmreview.cli.main import app
from lmreview.portfolio.tabular import ALIASES, COLUMNS
from lmreview.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CLI_MD = DOCS / "cli.md"
WIDTH = 100
UPDATE = "LMREVIEW_UPDATE_DOCS=1 .venv/bin/pytest tests/test_docs.py"

HEADER = f"""# Command-line reference

This page is generated from `lmreview --help` and the `--help` of every command; do not edit it by hand.
`tests/test_docs.py` fails when the commands change and this page does not. To regenerate it:

```sh
{UPDATE}
```

Every command takes the global options `--db` (a file path or a database URL) and `--user` (the name written to the
audit log); put them before the command: `lmreview --db review.db portfolio list`. A mistake in your input prints
one line per problem on stderr and exits with status 2; a database that cannot be reached exits with status 1.
"""


def command_paths() -> list[list[str]]:
    """Every command and sub-command, as the words after ``lmreview``, in the order ``--help`` lists them."""
    root = get_command(app)
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        list_commands = getattr(command, "list_commands", None)
        if list_commands is None:
            return
        ctx = root.make_context("lmreview", [], resilient_parsing=True)
        for name in list_commands(ctx):
            walk(command.get_command(ctx, name), [*path, name])  # type: ignore[attr-defined]

    walk(root, [])
    return paths


def help_text(path: list[str]) -> str:
    """The ``--help`` of ``lmreview <path>``, at a fixed width, without colour or LMREVIEW_* settings."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("LMREVIEW_")}
    env.update({"COLUMNS": str(WIDTH), "LINES": "50", "NO_COLOR": "1", "TERM": "dumb"})
    result = CliRunner().invoke(
        app, [*path, "--help"], env=env, color=False, prog_name="lmreview", terminal_width=WIDTH
    )
    assert result.exit_code == 0, f"lmreview {' '.join(path)} --help failed:\n{result.output}"
    return "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())


def cli_reference() -> str:
    parts = [HEADER]
    for path in command_paths():
        title = " ".join(["lmreview", *path])
        parts.append(f"## `{title}`\n\n```text\n{help_text(path)}\n```\n")
    return "\n".join(parts)


def test_cli_reference_is_current() -> None:
    expected = cli_reference()
    if os.environ.get("LMREVIEW_UPDATE_DOCS") == "1":
        CLI_MD.write_text(expected, encoding="utf-8")
    actual = CLI_MD.read_text(encoding="utf-8") if CLI_MD.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                actual.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                "docs/cli.md",
                "lmreview --help",
                n=1,
            )
        )
        message = "docs/cli.md is not the current --help of the commands; regenerate it with"
        raise AssertionError(f"{message}\n  {UPDATE}\n\n{diff}")


def test_every_setting_is_documented() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    names = [f"LMREVIEW_{setting.name.upper()}" for setting in dataclasses.fields(Settings)]
    missing = [name for name in names if name not in text]
    assert not missing, f"docs/architecture.md does not describe these settings: {', '.join(missing)}"


def test_every_portfolio_column_is_documented() -> None:
    text = (DOCS / "formats.md").read_text(encoding="utf-8")
    missing = [name for name in COLUMNS if f"`{name}`" not in text]
    assert not missing, f"docs/formats.md does not describe these portfolio columns: {', '.join(missing)}"


def test_every_header_alias_is_documented() -> None:
    text = (DOCS / "formats.md").read_text(encoding="utf-8")
    missing = [alias for alias in ALIASES if f"`{alias}`" not in text]
    assert not missing, f"docs/formats.md does not list these header aliases: {', '.join(missing)}"
