"""`config.base_url`: where the user's clients will send the key.

The doctor tests the target chosen by the contract's rules; this check says
whether that target is usable and where an OpenAI SDK in this environment
would send requests, because "Invalid API Key" usually means the CBorg key
went to api.openai.com.
"""

from __future__ import annotations

from collections.abc import Mapping

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.fixes.remedies import SDK_BASE_URL
from cborg_doctor.shared_codes import BASE_URL_PATH
from cborg_doctor.target import (
    DEFAULT_BASE_URL,
    Target,
    is_cborg_host,
    is_loopback,
    parse_target,
)

OPENAI_HOSTS = ("api.openai.com",)
GOOD_PATHS = ("", "/v1")

BASE_URL_INVALID = Code(
    "BASE_URL_INVALID",
    Severity.FAIL,
    "The base URL {url!r} (from {source}) is not a usable http(s) URL.",
    fix=(
        f"Set it to the gateway's address with its scheme: {DEFAULT_BASE_URL}",
        "e.g. `export CBORG_BASE_URL={default}` or `--base-url {default}`.",
    ),
    explain="A base URL needs `https://` and a host name; `api.cborg.lbl.gov` alone or "
    "a typo in the scheme makes every client fail before it sends anything.",
)
BASE_URL_INSECURE = Code(
    "BASE_URL_INSECURE",
    Severity.FAIL,
    "The base URL {url} uses plain http to {host}: the key would cross the network "
    "unencrypted, so the doctor will not send it.",
    fix=(
        "Use https: {https_url}",
        "Plain http is only safe to a proxy on this machine (127.0.0.1), such as cborg-client.",
    ),
    explain="Keys are sent only over HTTPS, or over plain HTTP to a loopback address.",
)
BASE_URL_OPENAI = Code(
    "BASE_URL_OPENAI",
    Severity.WARN,
    "{what}: the OpenAI SDK in this environment sends requests to api.openai.com, which "
    "rejects a CBorg key with \"Incorrect API key provided\".",
    fix=(
        f"Run `export OPENAI_BASE_URL={DEFAULT_BASE_URL}` (or pass base_url=\"{DEFAULT_BASE_URL}\" "
        "to OpenAI(...) in your code).",
        "Keep the key in CBORG_API_KEY and pass it as api_key=os.environ[\"CBORG_API_KEY\"].",
    ),
    explain="\"Invalid API Key\" from a script usually means the client did not override "
    "the base URL and sent the CBorg key to OpenAI. The doctor never sends your key there; "
    "it tests the CBorg gateway instead.",
    also=((Severity.FAIL,
           'when $OPENAI_BASE_URL itself points at api.openai.com, or $OPENAI_API_KEY holds '
           'the CBorg key and no base URL variable is set (the doctor still tests CBorg)'),),
    remedy=SDK_BASE_URL,
)
BASE_URL_UNKNOWN_HOST = Code(
    "BASE_URL_UNKNOWN_HOST",
    Severity.WARN,
    "{variable} points at {host}, which is not a CBorg host ({cborg_hosts}).",
    fix=(
        f"If you meant CBorg, set {{variable}}={DEFAULT_BASE_URL}.",
        "If this is your own LiteLLM proxy, run the doctor with --base-url {url} to test it.",
    ),
    explain="The doctor sends the key only to CBorg hosts unless --base-url names another "
    "gateway explicitly.",
)

ALL_CODES = (BASE_URL_INVALID, BASE_URL_INSECURE, BASE_URL_PATH, BASE_URL_OPENAI, BASE_URL_UNKNOWN_HOST)


def target_problems(target: Target) -> list[Finding]:
    """What is wrong with the URL the doctor is about to test."""
    if not target.valid:
        return [
            BASE_URL_INVALID.finding(
                url=target.base_url, source=target.source, default=DEFAULT_BASE_URL
            )
        ]
    found: list[Finding] = []
    if not target.key_may_be_sent:
        https_url = "https://" + target.base_url.split("://", 1)[-1]
        found.append(
            BASE_URL_INSECURE.finding(url=target.base_url, host=target.host, https_url=https_url)
        )
    if target.path not in GOOD_PATHS:
        found.append(
            BASE_URL_PATH.finding(
                url=target.base_url,
                path=target.path,
                example=target.origin + target.sdk_path("chat/completions"),
                models_url=target.origin + target.sdk_path("models"),
                suggested=target.origin,
            )
        )
    if target.source != "option" and not is_cborg_host(target.host) and not is_loopback(target.host):
        variable = target.source.removeprefix("env:")
        found.append(
            BASE_URL_UNKNOWN_HOST.finding(
                variable=variable,
                host=target.host,
                url=target.base_url,
                cborg_hosts=", ".join(("api.cborg.lbl.gov", "api-local.cborg.lbl.gov")),
            )
        )
    return found


def sdk_destination(env: Mapping[str, str]) -> tuple[str, str]:
    """Where openai-python would send requests: (url, why)."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE"):
        value = env.get(name)
        if value:
            return value, f"${name}"
    return "https://api.openai.com/v1", "the SDK's default ($OPENAI_BASE_URL is not set)"


def key_goes_to_openai(ctx: RunContext) -> bool:
    """Whether OPENAI_API_KEY holds the key the doctor tests (the CBorg key).

    True when the doctor itself took the key from OPENAI_API_KEY, or when it holds the
    same key as CBORG_API_KEY / --api-key-file. A different key there may be a real
    OpenAI key, which belongs at api.openai.com: that stays a warning.
    """
    openai_key = (ctx.env.get("OPENAI_API_KEY") or "").strip()
    key = ctx.key
    if not openai_key or key is None:
        return False
    return key.source == "env:OPENAI_API_KEY" or key.reveal().strip() == openai_key


def sdk_problems(ctx: RunContext) -> list[Finding]:
    """Findings about the OpenAI-SDK variables, which the user's scripts follow."""
    url, why = sdk_destination(ctx.env)
    parsed = parse_target(url, why)
    key_in_openai_var = bool(ctx.env.get("OPENAI_API_KEY"))
    if parsed.valid and parsed.host in OPENAI_HOSTS:
        if why.startswith("$"):
            return [
                # The user's scripts are broken, but the doctor's own target is the CBorg
                # default: the checks after this one still test it.
                BASE_URL_OPENAI.finding(
                    what=f"{why} is {url}", severity=Severity.FAIL,
                    data={"sdk_base_url": url}, blocks=False,
                )
            ]
        if key_goes_to_openai(ctx):
            # Every bare OpenAI() script sends the CBorg key to api.openai.com: broken, but
            # the doctor's own target is still CBorg, so the checks after this one still run.
            return [
                BASE_URL_OPENAI.finding(
                    what="OPENAI_API_KEY holds your CBorg key but neither OPENAI_BASE_URL nor "
                    "OPENAI_API_BASE is set",
                    severity=Severity.FAIL,
                    data={"sdk_base_url": url}, blocks=False,
                )
            ]
        if key_in_openai_var:
            return [
                BASE_URL_OPENAI.finding(
                    what="OPENAI_API_KEY is set but OPENAI_BASE_URL is not",
                    data={"sdk_base_url": url},
                )
            ]
        return []
    if parsed.valid and not is_cborg_host(parsed.host) and not is_loopback(parsed.host):
        variable = why.removeprefix("$")
        return [
            BASE_URL_UNKNOWN_HOST.finding(
                variable=variable,
                host=parsed.host,
                url=url,
                cborg_hosts="api.cborg.lbl.gov, api-local.cborg.lbl.gov",
            )
        ]
    return []


def run(ctx: RunContext) -> Outcome:
    target = ctx.target
    findings = target_problems(target)
    if target.source != "env:OPENAI_BASE_URL":
        findings += [
            f for f in sdk_problems(ctx) if not any(f.code == g.code for g in findings)
        ]
    sdk_url, sdk_why = sdk_destination(ctx.env)
    summary = f"{target.base_url} (from {target.source})"
    data = {"base_url": target.base_url, "source": target.source, "sdk_base_url": sdk_url,
            "sdk_base_url_from": sdk_why}
    return Outcome(summary, findings, data)


CHECK = Check(
    id="config.base_url",
    title="Base URL",
    run=run,
    codes=ALL_CODES,
    order=20,
    description="where the clients will send the key",
)
