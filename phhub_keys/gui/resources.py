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

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
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


class _SvgIconEngine(QIconEngine):
    """Renders an icon's SVG at the size and mode Qt asks for, when it asks (then caches it).

    Why not pixmaps up front: each icon was rendered at 5 sizes x 1x/2x x
    normal/disabled (20 pixmaps, ~3 ms and ~180 KB an icon) while a window
    shows one size of it; on the start-up path that was ~40 ms and a few MB.
    """

    def __init__(self, normal: QSvgRenderer, disabled: QSvgRenderer) -> None:
        super().__init__()
        self._renderers = {QIcon.Mode.Disabled: disabled}
        self._normal = normal
        self._cache: dict[tuple[int, int, int], QPixmap] = {}

    def _renderer(self, mode: QIcon.Mode) -> QSvgRenderer:
        return self._renderers.get(mode, self._normal)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        side = min(size.width(), size.height())
        disabled = mode == QIcon.Mode.Disabled
        key = (side, round(scale * 100), int(disabled))
        pixmap = self._cache.get(key)
        if pixmap is None:
            pixmap = _render(self._renderer(mode), side, scale) if side > 0 else QPixmap()
            self._cache[key] = pixmap
        return pixmap

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        scale = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        pixmap = self.scaledPixmap(rect.size(), mode, state, scale)
        painter.drawPixmap(rect, pixmap)

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:
        side = min(size.width(), size.height())
        return QSize(side, side)

    def availableSizes(self, mode: QIcon.Mode = QIcon.Mode.Normal,
                       state: QIcon.State = QIcon.State.Off) -> list[QSize]:
        # The sizes the app asks for (scalable: any size renders crisply; this lists 1x and 2x).
        return [QSize(n, n) for size in ICON_SIZES for n in (size, 2 * size)]

    def isNull(self) -> bool:
        return False

    def key(self) -> str:
        return "phhub_keys_svg"

    def clone(self) -> QIconEngine:
        twin = _SvgIconEngine(self._normal, self._renderers[QIcon.Mode.Disabled])
        twin._cache = self._cache  # same colours, same pixmaps
        _engines.append(twin)
        return twin


# Engines handed to QIcon stay referenced here: QIcon owns the C++ side but Python must keep the
# wrapper (and its Python state) alive. Icons are cached by name and colour, so this stays small.
_engines: list[_SvgIconEngine] = []


def _painted_svg(svg: str, colour: str) -> QSvgRenderer:
    qcolour = QColor(colour)
    # SVG has no alpha in colour names: use rgb() + opacity via the colour's alpha.
    painted = svg.replace("currentColor", qcolour.name(QColor.NameFormat.HexRgb))
    if qcolour.alpha() < 255:
        painted = painted.replace("<svg ", f'<svg opacity="{qcolour.alphaF():.3f}" ', 1)
    return QSvgRenderer(QByteArray(painted.encode("utf-8")))


@cache
def _icon(name: str, normal: str, disabled: str) -> QIcon:
    svg = _svg_text(name)
    engine = _SvgIconEngine(_painted_svg(svg, normal), _painted_svg(svg, disabled))
    _engines.append(engine)
    return QIcon(engine)
