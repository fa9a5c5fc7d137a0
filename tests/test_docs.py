"""The README's commands exist: every `make` target and `bankmetrics` subcommand it shows."""
from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_every_make_target_in_the_readme_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    shown = set(re.findall(r"`make ([a-z-]+)", README)) | set(re.findall(r"^make ([a-z-]+)", README, re.M))
    assert shown and shown <= targets


def test_every_bankmetrics_subcommand_in_the_readme_exists():
    shown = set(re.findall(r"^bankmetrics ([a-z]+)", README, re.M))
    runner = CliRunner()
    for name in sorted(shown):
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)


def test_every_option_the_readme_shows_is_accepted():
    runner = CliRunner()
    for line in re.findall(r"^bankmetrics (.+)$", README, re.M):
        name = line.split()[0]
        help_text = runner.invoke(app, [name, "--help"], terminal_width=200).output
        for option in re.findall(r"--[a-z-]+", line):
            assert option in help_text, (name, option)
