"""The README stays true: every setting documented, a two-command quick start."""
import re

from trainer.config import SETTINGS
from trainer.extensions import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    for setting in SETTINGS:
        assert f"| `{setting.env}` |" in README, setting.env


def test_quick_start_is_exactly_two_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    install_and_run, install_and_test = commands
    assert "pip install -e ." in install_and_run and "trainer init --demo" in install_and_run and install_and_run.endswith("trainer run")
    assert "pip install -e '.[test]'" in install_and_test and install_and_test.endswith("pytest")


def test_ci_runs_the_readme_test_command_on_both_databases():
    script = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -q -e '.[test]' && pytest" in script
    assert 'TRAINER_TEST_DATABASE_URL="$PG_URL" pytest' in script
