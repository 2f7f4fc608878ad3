"""Packaging files: the Linux .desktop and AppStream metadata validate, the app icons are what each
platform expects, and the PyInstaller spec is consistent with them.

The bundle itself is built and run by ``packaging/build.py --self-test`` (from .ci/run): far too slow
for pytest.
"""

from __future__ import annotations

import configparser
import importlib.util
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.github.phhub_keys"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
RESOURCES = ROOT / "resources"
SPEC = ROOT / "packaging" / "phhub-keys.spec"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def make_icons_module():
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "packaging" / "make_icons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate not installed (apt-get install desktop-file-utils)")
def test_desktop_file_validates():
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower()


@pytest.mark.skipif(shutil.which("appstreamcli") is None,
                    reason="appstreamcli not installed (apt-get install appstream)")
def test_appstream_metainfo_validates():
    result = subprocess.run(["appstreamcli", "validate", "--no-net", "--pedantic", str(METAINFO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_entry_and_metainfo_agree():
    entry = configparser.ConfigParser(interpolation=None, strict=True)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(DESKTOP, encoding="utf-8")
    main = entry["Desktop Entry"]
    assert main["Type"] == "Application"
    assert main["Exec"].split()[0] == "phhub-keys" == main["TryExec"]
    assert main["Icon"] == APP_ID
    assert main["StartupWMClass"] == "phhub-keys"
    assert "text/csv" in main["MimeType"].split(";")
    for action in filter(None, main["Actions"].split(";")):
        assert entry[f"Desktop Action {action}"]["Exec"].startswith("phhub-keys ")
    root = ET.parse(METAINFO).getroot()  # noqa: S314 - our own file
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name
    assert root.findtext("icon") == APP_ID
    assert root.find("provides/binary").text == "phhub-keys"
    assert root.findtext("name") == main["Name"]


def test_app_icon_pngs_have_their_sizes():
    assert (RESOURCES / "app-icon.svg").read_text(encoding="utf-8").lstrip().startswith("<svg")
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        assert png_size((RESOURCES / f"app-icon-{size}.png").read_bytes()) == (size, size)
    assert png_size((RESOURCES / "app-icon.png").read_bytes()) == (512, 512)


def parse_ico(data: bytes) -> dict[int, bytes]:
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1), "not an icon file"
    images = {}
    for i in range(count):
        width, height, _colours, _res, planes, bits, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i : 22 + 16 * i]
        )
        assert (planes, bits) == (1, 32)
        blob = data[offset : offset + length]
        assert len(blob) == length, "entry runs past the end of the file"
        size = width or 256
        assert width == height
        assert png_size(blob) == (size, size)
        images[size] = blob
    return images


def parse_icns(data: bytes) -> dict[str, bytes]:
    assert data[:4] == b"icns"
    (total,) = struct.unpack(">I", data[4:8])
    assert total == len(data)
    chunks, pos = {}, 8
    while pos < total:
        kind = data[pos : pos + 4].decode("ascii")
        (length,) = struct.unpack(">I", data[pos + 4 : pos + 8])
        assert length > 8 and pos + length <= total
        chunks[kind] = data[pos + 8 : pos + length]
        pos += length
    assert pos == total
    return chunks


def test_windows_ico_holds_png_entries_16_to_256():
    images = parse_ico((RESOURCES / "app-icon.ico").read_bytes())
    assert sorted(images) == [16, 24, 32, 48, 64, 128, 256]


def test_macos_icns_holds_every_retina_size():
    chunks = parse_icns((RESOURCES / "app-icon.icns").read_bytes())
    expected = {"icp4": 16, "icp5": 32, "ic11": 32, "ic12": 64, "ic07": 128, "ic13": 256, "ic08": 256,
                "ic14": 512, "ic09": 512, "ic10": 1024}
    assert {kind: png_size(blob)[0] for kind, blob in chunks.items()} == expected


def test_icon_encoders_round_trip():
    icons = make_icons_module()
    fake = {16: PNG_SIGNATURE + b"\x00\x00\x00\rIHDR" + struct.pack(">II", 16, 16) + b"rest",
            256: PNG_SIGNATURE + b"\x00\x00\x00\rIHDR" + struct.pack(">II", 256, 256) + b"more"}
    assert parse_ico(icons.ico_bytes(fake)) == fake
    assert parse_icns(icons.icns_bytes([("icp4", fake[16]), ("ic08", fake[256])])) == {
        "icp4": fake[16], "ic08": fake[256]
    }


def test_icons_render_from_the_svg(qapp, tmp_path):
    icons = make_icons_module()
    png = icons.render_png(RESOURCES / "app-icon.svg", 64)
    assert png_size(png) == (64, 64)
    from PySide6.QtGui import QImage

    image = QImage.fromData(png)
    assert image.pixelColor(32, 32).alpha() == 255  # the tile is opaque in the middle
    assert image.pixelColor(0, 0).alpha() == 0  # and the corners are transparent


def test_spec_is_python_and_points_at_real_files():
    text = SPEC.read_text(encoding="utf-8")
    compile(text, str(SPEC), "exec")
    needed_texts = (
        '"launcher.py"', '"app-icon.ico"', '"app-icon.icns"', '"resources"', f'BUNDLE_ID = "{APP_ID}"',
        '"NSHighResolutionCapable": True', 'collect_submodules("uvicorn")', 'copy_metadata("keyring")',
        "platformthemes/libqgtk3",
    )
    for needed in needed_texts:
        assert needed in text, needed
    assert (ROOT / "packaging" / "launcher.py").is_file()


def test_build_script_help_runs():
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--self-test" in result.stdout
