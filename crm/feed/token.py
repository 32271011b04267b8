"""The secret in the feed's URL: from crm.toml, ``$CRM_FEED_TOKEN``, or generated once per vault."""

from __future__ import annotations

import hmac
import re
import secrets
from pathlib import Path

from crm.core.config import Config
from crm.core.errors import CrmError
from crm.edit.atomic import write as write_atomic

TOKEN_FILE = Path(".crm") / "feed-token"
ENV_VAR = "CRM_FEED_TOKEN"
# URL-safe so that the token can sit in a path segment without any escaping.
_VALID = re.compile(r"[A-Za-z0-9_-]{16,256}")


def feed_token(root: Path, config: Config, env: str | None) -> str:
    """Return the feed token: ``[feed] token``, else ``env``, else the vault's stored one (made once)."""
    for where, value in (("crm.toml [feed] token", config.feed.token), (ENV_VAR, env)):
        if value:
            return _checked(value.strip(), where)
    path = root / TOKEN_FILE
    try:
        return _checked(path.read_text(encoding="utf-8").strip(), str(path))
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise CrmError(f"cannot read {path}: {exc.strerror or exc}") from None
    token = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(exist_ok=True)
    except OSError as exc:
        raise CrmError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    # Owner-only: anyone who can read the token can read the whole feed.
    write_atomic(path, (token + "\n").encode(), mode=0o600)
    return token


def token_matches(given: str, expected: str) -> bool:
    """Return True when ``given`` is the token, in time that does not depend on where they differ."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def _checked(token: str, where: str) -> str:
    if not _VALID.fullmatch(token):
        raise CrmError(
            f"feed token from {where} must be 16 to 256 characters of A-Z, a-z, 0-9, - and _",
            exit_code=2,
        )
    return token
