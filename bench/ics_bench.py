"""Time ``crm ics`` on synthetic vaults: cold, after touching 1% of the files, and render only.

Usage: python bench/ics_bench.py --count 10000 --count 100000 [--workdir /tmp/crm-bench]

Vaults come from bench/genvault.py (``--seed 1``) and are generated once per count. The
``crm ics`` figures are wall-clock times of a fresh process (``python -m crm``), so they
include start-up, loading the vault and writing the file; "render" is ``build_feed`` alone
on customers already loaded, the part crm/feed/ owns.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = "2026-11-23"


def vault(workdir: Path, count: int) -> Path:
    """Return the synthetic vault of ``count`` customers, generating it on first use."""
    root = workdir / f"vault-{count}"
    if not (root / "crm.toml").exists():
        subprocess.run(
            [sys.executable, str(HERE / "genvault.py"), "--count", str(count), "--seed", "1"]
            + ["--out", str(root)],
            check=True,
        )
    return root


def crm_ics(root: Path, out: Path) -> float:
    """Return the seconds a fresh ``crm ics -o out`` takes on ``root``."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "crm", "--vault", str(root), "ics", "--today", TODAY]
        + ["-o", str(out)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def touch_one_percent(root: Path) -> int:
    """Set the mtime of every 100th customer file to now; return how many were touched."""
    files = sorted(root.rglob("*.md"))[::100]
    for path in files:
        os.utime(path)
    return len(files)


def render_only(root: Path) -> tuple[float, int]:
    """Return the seconds ``build_feed`` takes on the loaded vault, and its number of events."""
    from crm.core.config import load_config
    from crm.feed.blocks import build_feed
    from crm.vault.load import load_vault

    config, _ = load_config(root)
    loaded = load_vault(root, config)
    started = time.perf_counter()
    data = build_feed(loaded.customers, config, date.fromisoformat(TODAY))
    return time.perf_counter() - started, data.count(b"BEGIN:VEVENT\r\n")


def main() -> None:
    """Print one Markdown table row per vault size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, action="append", required=True)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/crm-bench"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print("| customers | events | crm ics cold | after touching 1% | render only |")
    print("|---:|---:|---:|---:|---:|")
    for count in args.count:
        root = vault(args.workdir, count)
        out = args.workdir / f"feed-{count}.ics"
        cold = crm_ics(root, out)
        touch_one_percent(root)
        warm = crm_ics(root, out)
        render, events = render_only(root)
        print(f"| {count:,} | {events:,} | {cold:.1f} s | {warm:.1f} s | {render:.2f} s |")


if __name__ == "__main__":
    main()
