"""The live feed and the phone page for any WSGI server: ``gunicorn 'crm.cli.wsgi:make_app()'``."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from crm.cli import clock
from crm.core.config import load_config
from crm.feed.live import FeedJob, LiveFeed
from crm.feed.token import ENV_VAR, feed_token
from crm.vault.files import find_root
from crm.web.app import PageApp


def make_app(vault: str | None = None, *, read_only: bool = False) -> PageApp:
    """Return the phone page with the live feed, for any WSGI server, e.g.
    ``gunicorn 'crm.cli.wsgi:make_app()'``.

    The vault is ``vault``, else ``$CRM_VAULT``, else the nearest folder with crm.toml; the
    token is found as for ``crm serve``. The watcher and day ticker run for the process's life.
    """
    root = find_root(Path.cwd(), vault, os.environ.get("CRM_VAULT"))
    token = feed_token(root, load_config(root)[0], os.environ.get(ENV_VAR))
    logger = logging.getLogger("crm.server")
    live = LiveFeed(FeedJob(root, log=logger.warning, now=clock.now), token)
    live.start()
    live.app.closers.append(live.stop)
    return PageApp(
        root, token, now=clock.now, feed=live.app, read_only=read_only, log=logger.warning
    )
