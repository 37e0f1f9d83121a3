"""Find the CJK fonts Debian installs (fonts-noto-cjk, fonts-wqy-zenhei)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import ImageFont

# (file name, face index of the Simplified Chinese face inside the .ttc collection)
_CANDIDATES = {
    "sans": [("NotoSansCJK-Regular.ttc", 2), ("wqy-zenhei.ttc", 0)],
    "sans_bold": [("NotoSansCJK-Bold.ttc", 2), ("NotoSansCJK-Regular.ttc", 2), ("wqy-zenhei.ttc", 0)],
    "serif": [("NotoSerifCJK-Regular.ttc", 2), ("NotoSansCJK-Regular.ttc", 2), ("wqy-zenhei.ttc", 0)],
    "hei": [("wqy-zenhei.ttc", 0), ("NotoSansCJK-Regular.ttc", 2)],
}
_SEARCH_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")


class FontMissingError(RuntimeError):
    """No CJK font is installed, so Chinese would render as empty boxes."""


@dataclass(frozen=True)
class FontFace:
    """A font file and the face index inside it."""

    path: Path
    index: int

    def at(self, size: int) -> ImageFont.FreeTypeFont:
        """This face at ``size`` pixels."""
        return _font(self.path, self.index, size)


@cache
def _font(path: Path, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, index=index)


@cache
def _installed_font_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    if shutil.which("fc-list"):
        listing = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False)
        for line in listing.stdout.splitlines():
            path = Path(line.split(":", 1)[0].strip())
            files.setdefault(path.name, path)
    for folder in _SEARCH_DIRS:
        if folder.is_dir():
            for path in folder.rglob("*.tt[cf]"):
                files.setdefault(path.name, path)
    return files


@cache
def cjk_face(style: str) -> FontFace:
    """The best installed face for ``style`` (``sans``, ``sans_bold``, ``serif`` or ``hei``).

    Raises:
        FontMissingError: none of the candidate CJK fonts is installed.
    """
    installed = _installed_font_files()
    for name, index in _CANDIDATES[style]:
        if name in installed:
            return FontFace(installed[name], index)
    raise FontMissingError(
        "expected a CJK font (NotoSansCJK-Regular.ttc or wqy-zenhei.ttc) under /usr/share/fonts, "
        "found none: install the Debian package fonts-noto-cjk or fonts-wqy-zenhei"
    )
