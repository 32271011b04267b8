from click.testing import CliRunner

from crm.cli import main
from tests.conftest import EXAMPLE


def test_example_vault_checks_clean() -> None:
    result = CliRunner().invoke(main, ["--vault", str(EXAMPLE), "check"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
