"""``crm index``: bring the index cache up to date, rebuild it, or show what it holds."""

from __future__ import annotations

import click

from crm.cli.common import Session, pass_session


@click.command("index")
@click.option("--rebuild", is_flag=True, help="Throw the index away and parse every file again.")
@click.option("--stats", is_flag=True, help="Also print counts, index size and time per phase.")
@pass_session
def index_(session: Session, rebuild: bool, stats: bool) -> None:
    """Update the index (.crm/index.sqlite) that every command answers from.

    Every command already re-parses the files that changed since the last run; this one is
    for building the index ahead of time or starting over. The index is only a cache: it is
    safe to delete, and a corrupt or locked one is rebuilt or bypassed.

    \b
    Examples:
      crm index --rebuild
      crm index --stats
    """
    from crm.index.schema import index_path

    index = session.index(rebuild=rebuild)
    s = index.stats
    how = f" ({s.rebuilt})" if s.rebuilt else ""
    click.echo(f"{s.files} files: {s.parsed} parsed, {s.removed} removed{how}")
    if not stats:
        return
    path = index_path(session.root)
    size = path.stat().st_size if path.exists() and not index.bypassed else 0
    click.echo(f"customers: {index.count()}")
    click.echo(f"problems:  {len(index.problems())}")
    click.echo(f"index:     {path} ({size / 1e6:.1f} MB)")
    phases = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in s.phases.items())
    click.echo(f"time:      {phases}")


COMMANDS = [index_]
