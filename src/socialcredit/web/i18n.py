"""English and Simplified Chinese: choosing the reader's language and translating labels.

The language comes from ``?lang=`` (which is then remembered in a cookie), else the cookie,
else the browser's ``Accept-Language`` (the first of ``en``/``zh`` it prefers), else English.
Every label is a key of ``messages.MESSAGES`` with both texts; asking for a key that is not
there raises ``KeyError``, so that a page with a missing label fails its tests instead of
showing a raw key to a reader.
"""

from collections.abc import Mapping

from socialcredit.web.messages import MESSAGES

__all__ = [
    "HTML_LANG",
    "LANGUAGES",
    "LANG_COOKIE",
    "LANG_LABEL",
    "Translator",
    "from_accept_language",
    "known_language",
]

LANGUAGES = ("en", "zh")
LANG_COOKIE = "sc_lang"
# The value of <html lang>: Simplified Chinese is zh-Hans (BCP 47), so that browsers and
# screen readers pick mainland glyphs and voices.
HTML_LANG: Mapping[str, str] = {"en": "en", "zh": "zh-Hans"}
LANG_LABEL: Mapping[str, str] = {"en": "English", "zh": "中文"}
MAX_ACCEPT_CHARS = 500


def known_language(value: str | None) -> str | None:
    """``value`` if it names a language of the portal (``zh-CN`` counts as ``zh``)."""
    if not value:
        return None
    primary = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGES else None


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def from_accept_language(header: str | None) -> str:
    """The portal language the browser prefers most (ties: the one it names first)."""
    best, best_quality = "en", 0.0
    for item in (header or "")[:MAX_ACCEPT_CHARS].split(","):
        tag, *parameters = item.split(";")
        language = known_language(tag)
        quality = _quality(parameters)
        if language is not None and quality > best_quality:
            best, best_quality = language, quality
    return best


class Translator:
    """``t("key", name=value)``: the label in this language, with ``{name}`` filled in."""

    def __init__(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"no such portal language: {language!r}")
        self.language = language
        self._index = LANGUAGES.index(language)

    def __call__(self, key: str, **values: object) -> str:
        text = MESSAGES[key][self._index]
        return text.format(**values) if values else text
