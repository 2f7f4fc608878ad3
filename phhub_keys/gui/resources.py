"""Finding the app's files (icons, styles) in a checkout, an install and a PyInstaller bundle.

Icons are monochrome SVGs drawn with ``currentColor``; ``icon()`` paints them in
the palette's text colour (or a colour you pass) so they stay visible in light
and dark themes, rendered at 1x and 2x so they are crisp on high-DPI screens.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

ICON_SIZES = (16, 20, 24, 32, 48)


def _candidate_roots() -> list[Path]:
    roots: list[Path] = []
    override = os.environ.get("PHHUB_KEYS_RESOURCES")
    if override:
        roots.append(Path(override))
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:  # PyInstaller one-folder/one-file bundle
        roots.append(Path(bundle) / "resources")
    package_dir = Path(__file__).resolve().parent.parent  # phhub_keys/
    roots.append(package_dir / "resources")  # if packaged as package data
    roots.append(package_dir.parent / "resources")  # a checkout / editable install
    roots.append(Path(sys.prefix) / "share" / "phhub-keys" / "resources")  # data-files install
    return roots


@cache
def resources_root() -> Path:
    """The first ``resources/`` folder that holds our icons."""
    for root in _candidate_roots():
        if (root / "icons").is_dir():
            return root
    tried = ", ".join(str(r) for r in _candidate_roots())
    raise FileNotFoundError(f"phhub-keys resources not found (looked in {tried})")


def resource_path(*parts: str) -> Path:
    """Path of a file under ``resources/``, e.g. ``resource_path("icons", "key.svg")``."""
    return resources_root().joinpath(*parts)


@cache
def _svg_text(name: str) -> str:
    return resource_path("icons", f"{name}.svg").read_text(encoding="utf-8")


def _default_colour() -> QColor:
    return QGuiApplication.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)


def _disabled_colour() -> QColor:
    return QGuiApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)


def _render(renderer: QSvgRenderer, size: int, dpr: float) -> QPixmap:
    pixmap = QPixmap(int(size * dpr), int(size * dpr))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size * dpr, size * dpr))
    painter.end()
    pixmap.setDevicePixelRatio(dpr)
    return pixmap


def icon(name: str, colour: QColor | str | None = None) -> QIcon:
    """``resources/icons/<name>.svg`` as a QIcon painted in ``colour`` (default: palette text).

    The disabled mode gets the palette's disabled text colour, so greyed-out
    buttons look greyed out in both light and dark themes.
    """
    normal = QColor(colour) if colour is not None else _default_colour()
    argb = QColor.NameFormat.HexArgb
    return _icon(name, normal.name(argb), _disabled_colour().name(argb))


@cache
def _icon(name: str, normal: str, disabled: str) -> QIcon:
    svg = _svg_text(name)
    result = QIcon()
    for mode, colour in ((QIcon.Mode.Normal, normal), (QIcon.Mode.Disabled, disabled)):
        qcolour = QColor(colour)
        # SVG has no alpha in colour names: use rgb() + stroke-opacity via the colour's alpha.
        painted = svg.replace("currentColor", qcolour.name(QColor.NameFormat.HexRgb))
        if qcolour.alpha() < 255:
            painted = painted.replace("<svg ", f'<svg opacity="{qcolour.alphaF():.3f}" ', 1)
        # One parse per colour, not per pixmap: parsing was most of the cost (start-up path).
        renderer = QSvgRenderer(QByteArray(painted.encode("utf-8")))
        for size in ICON_SIZES:
            for dpr in (1.0, 2.0):
                result.addPixmap(_render(renderer, size, dpr), mode)
    return result


def icon_size(px: int = 16) -> QSize:
    return QSize(px, px)
