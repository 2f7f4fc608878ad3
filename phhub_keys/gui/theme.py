"""Accent colours that stay readable on light and dark palettes.

Everything else comes from the palette's roles; these few semantic colours
(success green, danger red, badge tints, panel highlights) are picked per
palette brightness so text on them keeps a comfortable contrast in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QGuiApplication, QPalette


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


@dataclass(frozen=True)
class Accents:
    success: QColor
    danger: QColor
    active_fg: QColor
    active_bg: QColor
    inactive_fg: QColor
    inactive_bg: QColor
    notice_bg: QColor  # the shown-once panel
    notice_border: QColor
    error_bg: QColor  # the error banner
    error_border: QColor
    warning_fg: QColor  # keys expiring soon: text, and the expiry banner's border
    warning_bg: QColor  # ... and the soft tint behind the Expires cell / banner
    expired_fg: QColor  # the Expired badge
    expired_bg: QColor


_LIGHT = Accents(
    success=QColor("#1a7f37"),
    danger=QColor("#b42318"),
    active_fg=QColor("#14622b"),
    active_bg=QColor("#d8f3df"),
    inactive_fg=QColor("#454c54"),
    inactive_bg=QColor("#e3e6ea"),
    notice_bg=QColor("#fff8db"),
    notice_border=QColor("#d4a72c"),
    error_bg=QColor("#ffebe9"),
    error_border=QColor("#e5534b"),
    warning_fg=QColor("#8a5300"),
    warning_bg=QColor("#fff1d6"),
    expired_fg=QColor("#8e1c12"),
    expired_bg=QColor("#fbe0dc"),
)

_DARK = Accents(
    success=QColor("#56d364"),
    danger=QColor("#ff7b72"),
    active_fg=QColor("#aff0bf"),
    active_bg=QColor("#1d4a2b"),
    inactive_fg=QColor("#d0d6dc"),
    inactive_bg=QColor("#3b4149"),
    notice_bg=QColor("#3a3217"),
    notice_border=QColor("#bb8009"),
    error_bg=QColor("#4a1e1e"),
    error_border=QColor("#f47067"),
    warning_fg=QColor("#f2cc60"),
    warning_bg=QColor("#3d3115"),
    expired_fg=QColor("#ffb3ab"),
    expired_bg=QColor("#5a2420"),
)


def accents(palette: QPalette | None = None) -> Accents:
    return _DARK if is_dark(palette) else _LIGHT


def dark_palette() -> QPalette:
    """A dark Fusion palette (used by the screenshot script and handy for testing)."""
    pal = QPalette()
    # Fusion draws frames (line edits, check boxes, group boxes) in Window.darker(140): the window
    # colour is light enough that those frames stay visible against it and against Base.
    window, base, text = QColor(52, 55, 60), QColor(30, 32, 35), QColor(230, 232, 235)
    disabled = QColor(128, 131, 136)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(37, 39, 43),
        QPalette.ColorRole.ToolTipBase: QColor(60, 63, 68),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor(150, 153, 158),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(64, 68, 74),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 120, 120),
        QPalette.ColorRole.Light: QColor(80, 83, 88),
        QPalette.ColorRole.Midlight: QColor(66, 69, 74),
        QPalette.ColorRole.Mid: QColor(50, 52, 56),
        QPalette.ColorRole.Dark: QColor(25, 26, 28),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
        QPalette.ColorRole.Highlight: QColor(56, 117, 215),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(110, 168, 254),
        QPalette.ColorRole.LinkVisited: QColor(170, 140, 250),
    }
    for role, colour in roles.items():
        pal.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return pal
