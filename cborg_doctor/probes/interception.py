"""TLS inspection products, recognised by the issuer of the certificate they forge.

An inspecting proxy ends the user's TLS itself and presents a certificate for the
gateway signed by its own CA. The issuer's common name or organisation names the
product; `identify()` looks it up in one table (pure, case-insensitive substrings)::

    product                   issuer CN / O contains                 where its root CA is
    ────────────────────────  ─────────────────────────────────────  ───────────────────────
    Zscaler                   zscaler                                Zscaler Client Connector
    Netskope                  netskope                               nscacert.pem (STAgent)
    Cisco Umbrella            cisco umbrella, opendns                Umbrella dashboard
    Palo Alto Networks        palo alto, paloalto, pan-os            the firewall's
                                                                     forward-trust CA
    Fortinet FortiGate        fortinet, fortigate                    the FortiGate
    Forcepoint / Websense     forcepoint, websense                   the Forcepoint admin
    Blue Coat / Symantec      blue coat, bluecoat, symantec web,     the ProxySG
                              broadcom web
    Sophos                    sophos                                 the Sophos firewall
    mitmproxy                 mitmproxy                              ~/.mitmproxy/
    others (Check Point, McAfee/Skyhigh, Barracuda, iboss, Menlo, Cloudflare Gateway,
    antivirus HTTPS scanning ...)                                    your IT department

An issuer found in none of them, seen only through the proxy, is the organisation's
own CA (`identify()` returns None and the caller says so).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    name: str
    markers: tuple[str, ...]  # lower-case substrings of the issuer's CN or O
    ca_hint: str = "ask your IT department for the root CA certificate (PEM)"


PRODUCTS = (
    Product("Zscaler", ("zscaler",),
            "Zscaler Client Connector installs it in the OS store as 'Zscaler Root CA'; export "
            "it, or ask IT for ZscalerRootCertificate-2048-SHA256.crt"),
    Product("Netskope", ("netskope",),
            "the Netskope client keeps it as nscacert.pem (macOS: /Library/Application Support/"
            "Netskope/STAgent/data/, Windows: C:\\ProgramData\\netskope\\stagent\\data\\)"),
    Product("Cisco Umbrella", ("cisco umbrella", "opendns"),
            "download the Cisco Umbrella Root CA from the Umbrella dashboard, or ask IT"),
    Product("Palo Alto Networks", ("palo alto", "paloalto", "pan-os"),
            "it is the firewall's forward-trust CA; ask IT to export it"),
    Product("Fortinet FortiGate", ("fortinet", "fortigate"),
            "download it from the FortiGate (SSL/SSH inspection profile), or ask IT"),
    Product("Forcepoint", ("forcepoint", "websense"), "ask IT to export it from Forcepoint"),
    Product("Blue Coat / Symantec", ("blue coat", "bluecoat", "symantec web", "broadcom web"),
            "ask IT to export the ProxySG's issuer CA"),
    Product("Sophos", ("sophos",), "download it from the Sophos firewall's HTTPS settings"),
    Product("mitmproxy", ("mitmproxy",),
            "it is ~/.mitmproxy/mitmproxy-ca-cert.pem on the machine that runs mitmproxy"),
    Product("Check Point", ("check point", "checkpoint")),
    Product("McAfee / Skyhigh", ("mcafee web", "skyhigh")),
    Product("Barracuda", ("barracuda",)),
    Product("iboss", ("iboss",)),
    Product("Menlo Security", ("menlo security",)),
    Product("Cloudflare Gateway", ("cloudflare for teams", "cloudflare gateway")),
    Product("Lightspeed / GoGuardian / Securly", ("lightspeed", "goguardian", "securly")),
    Product("WatchGuard / SonicWall / Untangle", ("watchguard", "sonicwall", "untangle")),
    Product("antivirus HTTPS scanning", ("kaspersky", "avast", "avg web", "eset ssl",
                                         "bitdefender"),
            "turn off HTTPS scanning in the antivirus, or export its root CA"),
    Product("squid", ("squid",)),
)


def identify(issuer: str, organisation: str = "") -> Product | None:
    """The inspection product whose CA issued a certificate, if the table knows it."""
    text = f"{issuer} {organisation}".lower()
    return next((p for p in PRODUCTS if any(m in text for m in p.markers)), None)
