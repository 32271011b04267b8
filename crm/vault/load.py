"""Loading a whole vault: every file parsed, duplicate ids settled, problems sorted.

Bad files never stop the load: their problems are values, and every other customer is kept;
two files with one id both stay (see ``duplicate_ids``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
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
    """Return a vault from parsed files; a duplicate id is settled by ``duplicate_ids``."""
    all_problems = list(problems)
    by_path: dict[PurePath, Customer] = {}
    for customer, file_problems in parsed:
        all_problems.extend(file_problems)
        if customer is not None:
            by_path[customer.location.path] = customer
    claims = [(c.id, _relative(path, root)) for path, c in by_path.items()]
    taken = {c.id for c in by_path.values()}
    for clash in duplicate_ids(claims, taken.__contains__):
        path = root / clash.path
        by_path[path] = dataclasses.replace(by_path[path], id=clash.new_id)
        all_problems.append(duplicate_problem(root, clash))
    customers = tuple(sorted(by_path.values(), key=lambda c: (c.name.casefold(), c.id)))
    all_problems.sort(key=problem_order)
    return Vault(root, customers, tuple(all_problems))


@dataclass(frozen=True, slots=True)
class Clash:
    """A file whose id another file owns: it keeps its customer under ``new_id`` instead."""

    path: PurePath
    id: str
    owner: PurePath
    new_id: str


def duplicate_ids(
    claims: Iterable[tuple[str, PurePath]], taken: Callable[[str], bool]
) -> list[Clash]:
    """Return a ``Clash`` for each file whose id another file owns, in path order.

    Of the files claiming one id, the file named after the id owns it, else the first path.
    Each other file gets its file name as its id, or ``name-2``, ``name-3``... when some
    customer (``taken``: does any file claim it) or an earlier clash already has that one.
    ``claims`` must hold every file of a clashing id; other ids may be left out.
    """
    by_id: dict[str, list[PurePath]] = {}
    for cid, path in claims:
        by_id.setdefault(cid, []).append(path)
    losers: list[tuple[PurePath, str, PurePath]] = []
    for cid, paths in by_id.items():
        if len(paths) > 1:
            paths.sort(key=lambda p: (p.stem != cid, p))
            losers.extend((loser, cid, paths[0]) for loser in paths[1:])
    losers.sort(key=lambda item: item[0])
    given: set[str] = set()
    found: list[Clash] = []
    for loser, cid, owner in losers:
        new_id = loser.stem
        n = 1
        while new_id in given or taken(new_id):
            n += 1
            new_id = f"{loser.stem}-{n}"
        given.add(new_id)
        found.append(Clash(loser, cid, owner, new_id))
    return found


def duplicate_problem(root: Path, clash: Clash) -> Problem:
    """Return the problem of a file that lost its id to another file (both paths named)."""
    return Problem(
        Location(root / clash.path, 1),
        f"duplicate id '{clash.id}' (also {Location(Path(clash.owner), 1)}); "
        f"this customer is '{clash.new_id}' until one id changes",
    )


def _relative(path: PurePath, root: Path) -> PurePath:
    """Return ``path`` relative to the vault root when it lies inside it."""
    try:
        return path.relative_to(root)
    except ValueError:
        return path
