"""`.wslconfig` read the way WSL reads it, and the merged file the fixes print."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cborg_doctor import wslconfig

DATA = Path(__file__).parent / "data" / "platform" / "wslconfig"


def parsed(name: str) -> wslconfig.ParsedConfig:
    return wslconfig.parse((DATA / name).read_text())


def test_a_correct_file_has_no_problems_and_its_values() -> None:
    config = parsed("correct.wslconfig")
    assert config.problems == ()
    assert [config.value(k) for k in wslconfig.NETWORK_KEYS] == ["mirrored", "true", "true", "true"]


def test_misspelled_keys_are_named_with_their_right_spelling() -> None:
    config = parsed("misspelled.wslconfig")
    assert config.value("networkingMode") is None
    texts = [p.text for p in config.problems]
    assert texts == [
        "line 3: WSL knows no `networkMode`, the setting is networkingMode",
        "line 4: WSL knows no `dnsTunnelling`, the setting is dnsTunneling",
    ]


def test_keys_under_another_section_or_none_are_ignored() -> None:
    wrong = parsed("wrong-section.wslconfig")
    assert wrong.value("networkingMode") is None
    assert wrong.problems[0].text == (
        "line 2: networkingMode is under [wsl]; WSL reads it only under [wsl2]"
    )
    top = parsed("no-section.wslconfig")
    assert top.value("networkingMode") is None
    assert top.problems[0].text == (
        "line 2: networkingMode is before any [section]; WSL reads it only under [wsl2]"
    )


def test_values_are_case_sensitive_and_keys_are_not() -> None:
    assert parsed("upper-case.wslconfig").problems[0].text.startswith(
        "line 2: networkingMode=Mirrored is not a valid value"
    )
    assert wslconfig.parse("[WSL2]\nNetworkingMode=mirrored\n").value("networkingMode") == "mirrored"


def test_the_experimental_section_of_wsl_2_0_is_still_read() -> None:
    config = parsed("experimental.wslconfig")
    assert config.problems == () and config.value("networkingMode") == "mirrored"


def test_wsl_keeps_the_first_of_two_values() -> None:
    config = wslconfig.parse("[wsl2]\nnetworkingMode=nat\nnetworkingMode=mirrored\n")
    assert config.value("networkingMode") == "nat"
    assert "WSL keeps the first one (line 2: networkingMode=nat)" in config.problems[0].text


@pytest.mark.parametrize(
    "line", ["networking_mode=mirrored", "; networkingMode=mirrored", "networking-mode = mirrored"]
)
def test_lines_wsl_cannot_read_are_flagged(line: str) -> None:
    config = wslconfig.parse(f"[wsl2]\n{line}\n")
    assert config.value("networkingMode") is None
    assert config.problems and config.problems[0].key == "networkingMode"


def test_other_unknown_keys_are_not_our_business() -> None:
    assert wslconfig.parse("[wsl2]\nkernelCommandLine=quiet\nfoo=bar\n").problems == ()


def test_merged_without_a_file_is_the_documented_snippet() -> None:
    assert wslconfig.merged(None) == "[wsl2]\nnetworkingMode=mirrored\ndnsTunneling=true\n"


def test_merged_keeps_the_users_settings_and_replaces_in_place() -> None:
    text = (DATA / "nat-explicit.wslconfig").read_text()
    assert wslconfig.merged(text) == (
        "[wsl2]\nmemory=8GB\nnetworkingMode=mirrored\nswap=0\ndnsTunneling=true\n"
    )


def test_merged_adds_to_the_existing_wsl2_section_not_a_second_one() -> None:
    text = "[wsl2]\nmemory=8GB\n\n[experimental]\nautoMemoryReclaim=gradual\n"
    assert wslconfig.merged(text) == (
        "[wsl2]\nmemory=8GB\nnetworkingMode=mirrored\ndnsTunneling=true\n\n"
        "[experimental]\nautoMemoryReclaim=gradual\n"
    )


def test_merged_drops_misspelled_and_misplaced_copies() -> None:
    assert wslconfig.merged((DATA / "misspelled.wslconfig").read_text()) == (
        "[wsl2]\nmemory=8GB\nnetworkingMode=mirrored\ndnsTunneling=true\n"
    )
    assert wslconfig.merged((DATA / "wrong-section.wslconfig").read_text()) == (
        "[wsl]\n\n[boot]\nsystemd=true\n\n[wsl2]\nnetworkingMode=mirrored\ndnsTunneling=true\n"
    )
    assert wslconfig.merged((DATA / "experimental.wslconfig").read_text()) == (
        "[wsl2]\nmemory=4GB\nnetworkingMode=mirrored\ndnsTunneling=true\n\n"
        "[experimental]\nautoMemoryReclaim=gradual\n"
    )


def test_merged_gives_keys_before_any_section_their_header() -> None:
    assert wslconfig.merged("memory=8GB\nnetworkMode=mirrored\n") == (
        "[wsl2]\nnetworkingMode=mirrored\ndnsTunneling=true\nmemory=8GB\n"
    )
    assert wslconfig.merged((DATA / "no-section.wslconfig").read_text()) == (
        "# networking for the VPN\n\n[wsl2]\nnetworkingMode=mirrored\ndnsTunneling=true\n"
    )


def test_merged_files_parse_clean() -> None:
    for path in DATA.iterdir():
        result = wslconfig.parse(wslconfig.merged(path.read_text()))
        assert result.problems == (), path.name
        assert result.value("networkingMode") == "mirrored"
        assert result.value("dnsTunneling") == "true"


_LINES = st.sampled_from([
    "[wsl2]", "[WSL2]", "[experimental]", "[wsl]", "[boot]", "[wsl 2]", "", "# comment",
    "; old comment", "memory=8GB", "networkingMode=nat", "networkingMode=mirrored",
    "networkingMode=NAT", "networkMode=mirrored", "networking_mode=mirrored",
    "dnsTunneling=false", "dnsTunnelling=true", "autoProxy=true", "firewall=false",
    "swap=0", "  networkingMode = \"mirrored\"  # quoted", "kernelCommandLine=quiet",
])


@given(st.lists(_LINES, max_size=14))
@settings(max_examples=300, deadline=None)
def test_merged_always_yields_a_file_wsl_reads_as_mirrored(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    result = wslconfig.merged(text)
    config = wslconfig.parse(result)
    assert config.value("networkingMode") == "mirrored"
    assert config.value("dnsTunneling") == "true"
    wanted = {"networkingmode", "dnstunneling"}
    assert not [p for p in config.problems if p.key and p.key.lower() in wanted]
    assert wslconfig.merged(result) == result  # merging twice changes nothing
    assert result.count("[wsl2]") <= max(1, text.count("[wsl2]"))
