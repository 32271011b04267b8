"""``python -m crm``: the same command line as ``crm`` (used by the git merge driver)."""

from crm.cli import main

main(prog_name="crm")
