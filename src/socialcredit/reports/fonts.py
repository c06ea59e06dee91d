"""Finding a font that can print Chinese names and titles, through fontconfig.

Statements and plots print names such as 张建 and rule titles such as 闯红灯. The Latin fonts of
a bare Debian image (DejaVu) have no CJK glyphs, so we ask fontconfig which installed families
support Chinese and take the first of a preference list. Without one we still render (Chinese
characters come out as boxes) and say once, through ``logging``, which Debian package to install.
"""

import functools
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CJK_DEBIAN_PACKAGE",
    "PREFERRED_CJK_FAMILIES",
    "CjkFont",
    "css_font_stack",
    "find_cjk_font",
    "has_cjk",
]

LOGGER = logging.getLogger("socialcredit.reports")

CJK_DEBIAN_PACKAGE = "fonts-noto-cjk"

# Best first. Simplified Chinese faces before the Traditional/Japanese cuts of the same design,
# so that shared Han characters take their mainland forms.
PREFERRED_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans CJK",
    "Noto Serif CJK",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
)

# Latin fallbacks after the CJK family, and what a browser may have when the portal reuses the
# same stylesheet on a machine that is not ours.
_LATIN_FALLBACKS = ("DejaVu Sans", "Liberation Sans", "Arial")
_BROWSER_CJK_FALLBACKS = ("PingFang SC", "Microsoft YaHei", "Hiragino Sans GB")

# A family name that is safe to put between double quotes in CSS.
_SAFE_FAMILY = re.compile(r"[A-Za-z0-9 ._+\-]{1,100}")

_CJK_CHAR = re.compile(
    "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]"
)


@dataclass(frozen=True, slots=True)
class CjkFont:
    """An installed font family that covers Chinese, and the file fontconfig maps it to."""

    family: str
    file: Path


def has_cjk(*texts: str | None) -> bool:
    """Whether any of ``texts`` holds a CJK character (Han, kana, CJK punctuation, full-width)."""
    return any(text is not None and _CJK_CHAR.search(text) for text in texts)


def _fontconfig_zh_fonts() -> list[tuple[str, Path]]:
    """``(family, file)`` for every installed face that fontconfig says covers Chinese."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        result = subprocess.run(
            [fc_list, ":lang=zh", "family", "file"],
            capture_output=True,
            text=True,
            check=False,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    fonts: list[tuple[str, Path]] = []
    for line in result.stdout.splitlines():
        # "/usr/share/fonts/.../NotoSansCJK-Regular.ttc: Noto Sans CJK SC,Noto Sans CJK SC Regular"
        file, sep, families = line.partition(": ")
        if not sep:
            continue
        for family in families.split(","):
            family = family.strip()
            if family:
                fonts.append((family, Path(file.strip())))
    return fonts


def _regular_first(path: Path) -> tuple[int, str]:
    """Order files so a regular face is found before bold, light or italic ones."""
    name = path.name.lower()
    regular = "regular" in name or not any(
        word in name for word in ("bold", "black", "light", "thin", "medium", "italic")
    )
    return (0 if regular else 1, name)


def _choose(fonts: list[tuple[str, Path]]) -> CjkFont | None:
    by_family: dict[str, list[Path]] = {}
    for family, file in fonts:
        if _SAFE_FAMILY.fullmatch(family):
            by_family.setdefault(family, []).append(file)
    if not by_family:
        return None
    lowered = {name.lower(): name for name in by_family}
    for wanted in PREFERRED_CJK_FAMILIES:
        chosen = lowered.get(wanted.lower())
        if chosen is None:
            # "Noto Sans CJK" also matches "Noto Sans CJK JP" when only other cuts are installed.
            chosen = next(
                (name for low, name in sorted(lowered.items()) if low.startswith(wanted.lower())),
                None,
            )
        if chosen is not None:
            return CjkFont(chosen, min(by_family[chosen], key=_regular_first))
    fallback = sorted(by_family)[0]
    return CjkFont(fallback, min(by_family[fallback], key=_regular_first))


@functools.cache
def find_cjk_font() -> CjkFont | None:
    """The installed CJK family to use, or ``None`` (logged once) when there is none.

    Cached for the process: fontconfig is asked once. Tests call ``find_cjk_font.cache_clear()``.
    """
    font = _choose(_fontconfig_zh_fonts())
    if font is None:
        LOGGER.warning(
            "no font with Chinese characters is installed: statements and plots will show "
            "Chinese names as boxes; install the Debian package %s (apt-get install -y %s)",
            CJK_DEBIAN_PACKAGE,
            CJK_DEBIAN_PACKAGE,
        )
    return font


def css_font_stack() -> str:
    """A CSS ``font-family`` value: the installed CJK family first, then fallbacks.

    The same stylesheet serves the portal's printable page, so the CJK families a reader's own
    machine may have come next, then Latin ones.
    """
    font = find_cjk_font()
    families: list[str] = [font.family] if font is not None else []
    families += [name for name in _BROWSER_CJK_FALLBACKS if name not in families]
    families += [name for name in _LATIN_FALLBACKS if name not in families]
    return ", ".join(f'"{name}"' for name in families) + ", sans-serif"
