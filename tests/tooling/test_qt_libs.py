"""Missing Qt X11 libraries are found before Qt loads, and named with the exact apt-get line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_self_test import headless_env

from phhub_keys.gui import qt_libs

UNKNOWN = "libfrobnicate.so.3"


def _absent_known_libraries() -> list[str]:
    """Libraries of the table this machine does not have (a stub of one would be found otherwise)."""
    try:
        cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [name for name in qt_libs.DEBIAN_PACKAGES if f"{name} " not in cache][:2]


MISSING = (*_absent_known_libraries(), UNKNOWN)
APT_LINE = qt_libs.apt_line(list(MISSING))


@pytest.fixture(scope="module")
def fake_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real ELF shared object linked against libraries that are then removed (as on a fresh Debian)."""
    if shutil.which("gcc") is None or shutil.which("ldd") is None:
        pytest.skip("needs gcc and ldd")
    if len(MISSING) < 2:
        pytest.skip("every library of the table is installed here")
    work = tmp_path_factory.mktemp("fakeqt")
    stubs = work / "stubs"
    stubs.mkdir()
    (work / "stub.c").write_text("int stub_symbol(void) { return 0; }\n")
    for soname in MISSING:
        subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", str(stubs / soname),
                        str(work / "stub.c")], check=True, timeout=60)
    package = work / "site" / "PySide6"  # looks like PySide6 to importlib, so the app finds "its" plugin
    platforms = package / "Qt" / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('a stand-in: importing it loaded Qt')\n")
    (work / "plugin.c").write_text("int plugin_symbol(void) { return 1; }\n")
    plugin = platforms / "libqxcb.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugin), str(work / "plugin.c"),
                    "-Wl,--no-as-needed", *[str(stubs / soname) for soname in MISSING]],
                   check=True, timeout=60)
    shutil.rmtree(stubs)
    return plugin


def test_ldd_names_every_missing_library(fake_plugin: Path) -> None:
    assert qt_libs.missing_libraries(fake_plugin) == list(MISSING)


def test_the_problem_gives_the_exact_apt_line_and_is_not_remembered(fake_plugin: Path,
                                                                    tmp_path: Path) -> None:
    text = qt_libs.xcb_problem(tmp_path, plugin=fake_plugin)
    assert text is not None
    packages = sorted({qt_libs.DEBIAN_PACKAGES[name] for name in MISSING[:-1]})
    assert "sudo apt-get install " + " ".join(packages) == APT_LINE
    assert f"{APT_LINE}\n" in text + "\n"
    assert UNKNOWN in text and f"apt-file search {UNKNOWN}" in text
    assert not list(tmp_path.iterdir())  # a failing check runs again next start


def test_a_complete_install_passes_and_is_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = qt_libs.xcb_plugin()
    if plugin is None or qt_libs.missing_libraries(plugin):
        pytest.skip("this machine lacks Qt's X11 libraries (CI installs them)")
    assert qt_libs.xcb_problem(tmp_path, plugin=plugin) is None
    assert (tmp_path / "qt-xcb-libs-ok").exists()
    monkeypatch.setattr(qt_libs, "missing_libraries", lambda _p: pytest.fail("ldd ran again"))
    assert qt_libs.xcb_problem(tmp_path, plugin=plugin) is None


def test_parse_ldd_reads_real_ldd_lines() -> None:
    text = ("\tlinux-vdso.so.1 (0x00007ffc)\n"
            "\tlibxcb-cursor.so.0 => not found\n"
            "\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)\n"
            "\tlibxcb-cursor.so.0 => not found\n")
    assert qt_libs.parse_ldd(text) == ["libxcb-cursor.so.0"]


def test_the_app_prints_the_apt_line_instead_of_qts_abort(fake_plugin: Path, tmp_path: Path) -> None:
    """`phhub-keys` (what `dev.py run` starts) on X11 with libraries missing: exit 3, the fix on stderr."""
    env = headless_env(tmp_path)
    env.update({"DISPLAY": ":99", "PYTHONPATH": str(fake_plugin.parents[4])})
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run([sys.executable, "-m", "phhub_keys", "--local"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert APT_LINE in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_display_nobody_answers_on_is_one_line_not_qts_abort(tmp_path: Path) -> None:
    """A stale DISPLAY (a closed session, an old ssh -X): Qt would abort blaming libxcb-cursor0."""
    number = next(n for n in range(4242, 4342) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    assert qt_libs.x_server_problem(f":{number}") is not None
    assert qt_libs.x_server_problem("remote-host:10") is None  # cannot tell: let Qt try
    env = headless_env(tmp_path)
    env["DISPLAY"] = f":{number}"
    result = subprocess.run([sys.executable, "-m", "phhub_keys", "--local"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(f"phhub-keys: no X server answers on DISPLAY=:{number}")
    assert len(result.stderr.splitlines()) == 1
