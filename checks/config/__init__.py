"""Local configuration checks: `config.key`, `config.base_url`, `config.proxy`.

No network: they read the key, the base URL and the proxy settings the user's
clients will use, and say precisely what is wrong with them.
"""

from __future__ import annotations

from cborg_doctor.api import Check

from .base_url import CHECK as BASE_URL_CHECK
from .key import CHECK as KEY_CHECK
from .proxy import CHECKS as PROXY_CHECKS

CHECKS: tuple[Check, ...] = (KEY_CHECK, BASE_URL_CHECK, *PROXY_CHECKS)
