"""Platform checks: `platform.vpn` (VPN, LBLnet, route to the gateway) and `platform.wsl`.

Both read the machine only through `cborg_doctor.osfacts`, so they run the same
on Linux, macOS, Windows and WSL, and tests replay recorded facts from each.
"""

from __future__ import annotations

from cborg_doctor.api import Check

from .vpn import CHECK as VPN_CHECK
from .wsl import CHECK as WSL_CHECK

CHECKS: tuple[Check, ...] = (VPN_CHECK, WSL_CHECK)
