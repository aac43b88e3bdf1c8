"""Every string of en.json exists in every shipped language, with the same placeholders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

TRANSLATIONS = Path(__file__).parent.parent / "custom_components" / "ksem_zaptec" / "translations"
LANGUAGES = ("de", "fr", "pl", "pt", "nb")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _flatten(data: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            assert isinstance(value, str), f"{path} is not a string"
            flat[path] = value
    return flat


ENGLISH = _flatten(json.loads((TRANSLATIONS / "en.json").read_text()))


def test_english_has_no_core_references() -> None:
    """Custom integrations cannot use [%key:...] references: they are resolved only in core."""
    assert not [k for k, v in ENGLISH.items() if "[%key:" in v]


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_is_complete(language: str) -> None:
    """Same keys as en.json, no leftovers, same placeholders, nothing left in English by mistake."""
    other = _flatten(json.loads((TRANSLATIONS / f"{language}.json").read_text()))
    assert sorted(set(ENGLISH) - set(other)) == [], "missing"
    assert sorted(set(other) - set(ENGLISH)) == [], "not in en.json"
    for key, text in ENGLISH.items():
        assert set(PLACEHOLDER.findall(other[key])) == set(PLACEHOLDER.findall(text)), key
        assert other[key].strip(), key


def test_shapes_home_assistant_reads() -> None:
    """HA looks up `exceptions.<key>.message` and `issues.<key>.title/description`.

    A bare string under `exceptions` is never found: users would see the raw key.
    """
    strings = json.loads((TRANSLATIONS / "en.json").read_text())
    for key, value in strings["exceptions"].items():
        assert isinstance(value, dict), key
        assert set(value) == {"message"}, key
    for key, value in strings["issues"].items():
        assert {"title", "description"} <= set(value), key


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_authorize_progress_reads_centred(language: str) -> None:
    """HA centres a progress step's text: a numbered list's short last item floats alone.

    So the pairing instructions are short paragraphs, each one line or two in the dialog.
    """
    strings = json.loads((TRANSLATIONS / f"{language}.json").read_text())
    text = strings["config"]["progress"]["ksem_wait_for_authorization"]
    for paragraph in text.split("\n\n"):
        assert "\n" not in paragraph, paragraph
        assert not re.match(r"\s*(\d+[.)]|[-*+])\s", paragraph), paragraph
        assert len(PLACEHOLDER.sub("x", paragraph)) <= 110, paragraph


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_already_configured_says_which_kind(language: str) -> None:
    """One text per kind: a meter names the entry it is set up as, an account does not."""
    abort = json.loads((TRANSLATIONS / f"{language}.json").read_text())["config"]["abort"]
    assert "already_configured" not in abort
    assert PLACEHOLDER.findall(abort["ksem_already_configured"]) == ["title"]
    assert "Zaptec" in abort["zaptec_already_configured"]
    assert "Zaptec" not in abort["ksem_already_configured"]
