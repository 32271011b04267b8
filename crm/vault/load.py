"""Loading a whole vault: every file parsed, duplicate ids settled, problems sorted.

Bad files never stop the load: their problems are values, and every other customer is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

from crm.core.config import Config
from crm.core.model import Customer, Location, Problem
from crm.vault.files import find_files
from crm.vault.parse import Parsed, parse_path
from crm.vault.reader import problem_order


@dataclass(frozen=True, slots=True)
class Vault:
    """The customers of a vault and the problems met while loading it."""

    root: Path
    customers: tuple[Customer, ...]
    problems: tuple[Problem, ...]


def load_vault(root: Path, config: Config) -> Vault:
    """Return every customer under ``root`` with all problems; bad files never stop the load."""
    files, problems = find_files(root, config)
    parsed = (parse_path(path, root, date_order=config.date_order) for path in files)
    return assemble(root, parsed, problems)


def assemble(root: Path, parsed: Iterable[Parsed], problems: Iterable[Problem] = ()) -> Vault:
    """Return a vault from parsed files, reporting duplicate ids (see ``duplicate_ids``)."""
    all_problems = list(problems)
    by_path: dict[PurePath, Customer] = {}
    for customer, file_problems in parsed:
        all_problems.extend(file_problems)
        if customer is not None:
            by_path[customer.location.path] = customer
    claims = [(c.id, _relative(path, root)) for path, c in by_path.items()]
    losers = set()
    for loser, cid, owner in duplicate_ids(claims):
        losers.add(root / loser)
        all_problems.append(duplicate_problem(root / loser, cid, owner))
    customers = tuple(
        sorted(
            (c for path, c in by_path.items() if path not in losers),
            key=lambda c: (c.name.casefold(), c.id),
        )
    )
    all_problems.sort(key=problem_order)
    return Vault(root, customers, tuple(all_problems))


def duplicate_ids(claims: Iterable[tuple[str, PurePath]]) -> list[tuple[PurePath, str, PurePath]]:
    """Return ``(losing file, id, owning file)`` for each file whose id another file owns.

    Of the files claiming one id, the file named after the id owns it, else the first path.
    """
    by_id: dict[str, list[PurePath]] = {}
    for cid, path in claims:
        by_id.setdefault(cid, []).append(path)
    found: list[tuple[PurePath, str, PurePath]] = []
    for cid, paths in by_id.items():
        if len(paths) > 1:
            paths.sort(key=lambda p: (p.stem != cid, p))
            found.extend((loser, cid, paths[0]) for loser in paths[1:])
    return found


def duplicate_problem(path: Path, cid: str, owner: PurePath) -> Problem:
    """Return the problem of the file at ``path`` losing the id ``cid`` to ``owner``."""
    return Problem(Location(path, 1), f"duplicate id '{cid}' (also {Location(Path(owner), 1)})")


def _relative(path: PurePath, root: Path) -> PurePath:
    """Return ``path`` relative to the vault root when it lies inside it."""
    try:
        return path.relative_to(root)
    except ValueError:
        return path
