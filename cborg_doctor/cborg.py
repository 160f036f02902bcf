"""CBorg's URLs, hosts and contacts, and LBL's public address ranges: one place for each.

    name              value
    ────────────────  ───────────────────────────────────────────────────
    DEFAULT_BASE_URL  https://api.cborg.lbl.gov
    CBORG_V1          https://api.cborg.lbl.gov/v1 (the OpenAI SDK's base URL)
    CBORG_HOST        api.cborg.lbl.gov (behind Cloudflare)
    LOCAL_ONLY_HOST   api-local.cborg.lbl.gov (LBLnet and the VPN only)
    KEY_PAGE          https://api.cborg.lbl.gov/key/manage (keys, IP authorization)
    CBORG_KEY_LENGTH  25 ("sk-" + 22; MIN_KEY_LENGTH 20 is "cut short")
    HELPDESK          scienceit@lbl.gov
    LBL_RANGES        128.3.0.0/16, 131.243.0.0/16, 2620:83:8000::/48

LBL's ranges, from LBL IT's "Private (RFC1918) IP Address Assignments at LBL"
(https://commons.lbl.gov/display/itfaq/Private+%28RFC1918%29+IP+Address+Assignments+at+LBL):
the main LBL network (AS16: desktops, labs and instruments in the Berkeley and
Emeryville buildings) has public IPv4 addresses in 128.3.0.0/16 and 131.243.0.0/16
and IPv6 addresses in 2620:83:8000::/48; these match ARIN's registrations for
Lawrence Berkeley National Laboratory (NET-128-3-0-0-1, NET-131-243-0-0-1).

Not covered, by the same page: LBL's visitor wireless and eduroam, ESnet and NERSC
(separate autonomous systems), so a machine there is not on LBLnet. Inside LBLnet
some subnets use private RFC 1918 addresses, so "no LBL address here" does not
prove a machine is off-site: the egress check's view of the public address does.
"""

from __future__ import annotations

import ipaddress

CBORG_HOST = "api.cborg.lbl.gov"
LOCAL_ONLY_HOST = "api-local.cborg.lbl.gov"
CBORG_HOSTS = (CBORG_HOST, LOCAL_ONLY_HOST)
DEFAULT_BASE_URL = f"https://{CBORG_HOST}"
CBORG_V1 = f"{DEFAULT_BASE_URL}/v1"
KEY_PAGE = f"{DEFAULT_BASE_URL}/key/manage"
HELPDESK = "scienceit@lbl.gov"

LBL_RANGES = tuple(
    ipaddress.ip_network(net) for net in ("128.3.0.0/16", "131.243.0.0/16", "2620:83:8000::/48")
)


def is_lbl_address(address: str) -> bool:
    """Whether an address (IPv4 or IPv6, with or without %zone) is in LBL's public ranges."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in LBL_RANGES)


# LiteLLM (and so CBorg) makes keys as "sk-" + secrets.token_urlsafe(16): 3 + 22 characters
# (litellm/proxy/management_endpoints/key_management_endpoints.py, LENGTH_OF_LITELLM_GENERATED_KEY).
CBORG_KEY_LENGTH = 25
MIN_KEY_LENGTH = 20


def length_hint(key: str) -> str:
    """Why a rejected key may be damaged, from its length or prefix; "" when it looks normal."""
    text = key.strip().strip("'\"“”‘’")
    if text and not text.startswith("sk-"):
        return "it does not start with `sk-` as CBorg keys do: probably another service's token"
    if len(text) < MIN_KEY_LENGTH:
        return (f"it is {len(text)} characters; CBorg keys are {CBORG_KEY_LENGTH}: "
                "probably cut short")
    return ""
