"""`config.key`: which key the user's clients will use, and whether it looks right.

No network: this only reads the key the doctor resolved (file, CBORG_API_KEY,
OPENAI_API_KEY) and says precisely what is wrong with its shape.
"""

from __future__ import annotations

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.cborg import CBORG_KEY_LENGTH, KEY_PAGE, MIN_KEY_LENGTH
from cborg_doctor.fixes.remedies import CLEAN_KEY

KEY_MISSING = Code(
    "KEY_MISSING",
    Severity.FAIL,
    "No API key found: looked at {looked_at}.",
    fix=(
        f"Get or view your key at {KEY_PAGE} (LBL login).",
        "Put it in an environment variable, not in source code: add "
        "`export CBORG_API_KEY=sk-...` to ~/.bashrc or ~/.zshrc (Windows: "
        "`setx CBORG_API_KEY sk-...`), then open a new terminal.",
        "Or keep it in a file readable only by you (chmod 600) and run "
        "`cborg-doctor --api-key-file PATH`.",
    ),
    explain="The doctor looks for the key the way CBorg's examples do: --api-key-file, "
    "then $CBORG_API_KEY, then $OPENAI_API_KEY. Without a key the account checks "
    "(auth, budget, models, live) cannot run.",
)
KEY_MALFORMED = Code(
    "KEY_MALFORMED",
    Severity.FAIL,
    "The key from {source} {problem}.",
    fix=(
        "{remedy}",
        f"Copy the key again from {KEY_PAGE}: it is one line starting with `sk-`.",
    ),
    explain="The key's text has a shape that the gateway will reject or that HTTP "
    "clients cannot send: whitespace or a newline around it, quotes pasted with it, "
    "non-ASCII characters (often a look-alike dash or quote from a document), or "
    "not the `sk-` prefix every CBorg (LiteLLM) key has.",
    remedy=CLEAN_KEY,
)
KEY_UNUSUAL = Code(
    "KEY_UNUSUAL",
    Severity.WARN,
    "The key from {source} {problem}; the auth check asks the gateway whether it accepts it.",
    fix=(
        "{remedy}",
        f"If the gateway rejects it, copy the key again from {KEY_PAGE}.",
    ),
    explain="A guess from the key's text, never a verdict: CBorg keys are `sk-` plus 22 "
    "characters (25 in all, as LiteLLM generates them), but a self-hosted LiteLLM may use "
    "a master key like `sk-1234` or accept other tokens. The gateway's answer (the auth "
    "check) decides; if it rejects the key, KEY_INVALID repeats this hint.",
)
KEY_SOURCES_DIFFER = Code(
    "KEY_SOURCES_DIFFER",
    Severity.INFO,
    "CBORG_API_KEY and OPENAI_API_KEY hold different keys ({first} and {second}).",
    fix=(
        "Tools that read OPENAI_API_KEY (the OpenAI SDK, many editors) send {second}; "
        "if that is an OpenAI key, point those tools at CBorg with their own settings.",
    ),
    explain="Two different keys are set; which one a tool uses depends on the tool.",
)

def shape_problems(raw: str, source: str) -> list[Finding]:
    """Everything wrong with the key's text, each as its own finding.

    What no client can send intact (line breaks, whitespace, quotes, non-ASCII) is
    KEY_MALFORMED; a prefix or length unlike CBorg's is only KEY_UNUSUAL (a warning):
    the gateway decides in `auth`.
    """
    found: list[Finding] = []

    def add(problem: str, remedy: str) -> None:
        found.append(KEY_MALFORMED.finding(source=source, problem=problem, remedy=remedy,
                                           data={"source": source}))

    def unusual(problem: str, remedy: str) -> None:
        found.append(KEY_UNUSUAL.finding(source=source, problem=problem, remedy=remedy))

    stripped = raw.strip()
    if "\n" in stripped or "\r" in stripped:
        add(
            "contains a line break",
            "Put the key on one line; a line break splits it into two header values.",
        )
    if raw != raw.rstrip():
        add(
            "ends with whitespace",
            "Remove the trailing space or newline (e.g. use `printf %s` instead of `echo`).",
        )
    if raw != raw.lstrip():
        add("starts with whitespace", "Remove the leading space.")
    unquoted = stripped.strip("'\"“”‘’")
    if unquoted != stripped:
        add(
            "is wrapped in quotes",
            "Remove the quote characters: in a .env file write CBORG_API_KEY=sk-... without "
            "quotes, or make sure your shell strips them.",
        )
    bad = sorted({ch for ch in unquoted if ord(ch) > 126 or (ord(ch) < 32 and ch not in "\r\n")})
    if bad:
        shown = ", ".join(f"U+{ord(ch):04X}" for ch in bad[:5])
        add(
            f"contains non-ASCII or control characters ({shown})",
            "Retype or re-copy the key from the key page; documents and chat tools replace "
            "dashes and quotes with look-alike characters.",
        )
    if unquoted and not unquoted.startswith("sk-"):
        unusual(
            "does not start with `sk-` as CBorg keys do",
            "Check that this variable holds your CBorg key and not another service's token.",
        )
    elif unquoted and len(unquoted) < MIN_KEY_LENGTH:
        unusual(
            f"is only {len(unquoted)} characters long; CBorg keys are {CBORG_KEY_LENGTH}",
            "If this is a CBorg key, the copy was probably cut short: copy the whole key "
            "again. A self-hosted LiteLLM's master key (e.g. sk-1234) may be this short.",
        )
    return found


def run(ctx: RunContext) -> Outcome:
    key = ctx.key
    if key is None:
        looked_at = ", ".join(f"${name}" for name in ctx.key_resolution.looked_at)
        return Outcome("no key", [KEY_MISSING.finding(looked_at=looked_at)])
    findings = shape_problems(key.reveal(), key.source)
    cborg, openai = ctx.env.get("CBORG_API_KEY"), ctx.env.get("OPENAI_API_KEY")
    if cborg and openai and cborg.strip() != openai.strip():
        from cborg_doctor.secrets import fingerprint

        findings.append(
            KEY_SOURCES_DIFFER.finding(first=fingerprint(cborg), second=fingerprint(openai))
        )
    summary = f"{key.fingerprint} from {key.source}"
    return Outcome(summary, findings, {"source": key.source, "fingerprint": key.fingerprint})


CHECK = Check(
    id="config.key",
    title="API key",
    run=run,
    codes=(KEY_MISSING, KEY_MALFORMED, KEY_UNUSUAL, KEY_SOURCES_DIFFER),
    order=10,
    description="which key the clients will use; its shape",
)
