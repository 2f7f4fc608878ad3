"""A desktop's keyring for the cold-start figure: gnome-keyring's Secret Service on a private D-Bus.

Why: a returning user's app reads its session token from the OS keyring, and
finding that keyring is part of the start (keyring's own search imports and
probes every installed backend; the app asks the platform's store first,
api/credentials.py). A file backend named by ``PYTHON_KEYRING_BACKEND`` skips
all of that, so the figure would leave it out. Where ``dbus-daemon`` and
``gnome-keyring-daemon`` are installed (Debian: dbus, gnome-keyring) the harness
runs both for the figure, in the run's scratch home, and the app finds the
keyring as it does on a desktop; elsewhere the figure says it used the file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PASSWORD = "bench"  # noqa: S105  (the throw-away login keyring's, in the run's temp dir)


@contextmanager
def secret_service(home: Path) -> Iterator[dict[str, str] | None]:
    """The environment of a private session bus with an unlocked Secret Service; None when the
    two daemons are not installed. Both stop on exit."""
    dbus, keyring_daemon = shutil.which("dbus-daemon"), shutil.which("gnome-keyring-daemon")
    if not (sys.platform.startswith("linux") and dbus and keyring_daemon):
        yield None
        return
    home.mkdir(parents=True, exist_ok=True)
    base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                              "DBUS_SESSION_BUS_ADDRESS")}
    base.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_RUNTIME_DIR=str(home / "run"))
    Path(base["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    bus = subprocess.Popen([dbus, "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, env=base)
    daemon: subprocess.Popen[str] | None = None
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon printed no address")
        env = {**base, "DBUS_SESSION_BUS_ADDRESS": address}
        daemon = subprocess.Popen([keyring_daemon, "--foreground", "--unlock", "--components=secrets"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  text=True, env=env)
        assert daemon.stdin is not None
        daemon.stdin.write(PASSWORD)
        daemon.stdin.close()
        _wait_for_service(env)
        yield {"DBUS_SESSION_BUS_ADDRESS": address, "HOME": str(home)}
    finally:
        for proc in (daemon, bus):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _wait_for_service(env: dict[str, str]) -> None:
    code = ("import time, secretstorage\n"
            "for _ in range(100):\n"
            "    bus = secretstorage.dbus_init()\n"
            "    if secretstorage.check_service_availability(bus):\n"
            "        secretstorage.get_default_collection(bus); raise SystemExit(0)\n"
            "    time.sleep(0.05)\n"
            "raise SystemExit('the Secret Service did not come up')\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=30)


def store_token(env: dict[str, str], service: str, account: str, token: str) -> None:
    """Save the token in that Secret Service, as the app saved it at the last sign-in."""
    code = ("import sys\nfrom keyring.backends import SecretService\n"
            "SecretService.Keyring().set_password(sys.argv[1], sys.argv[2], sys.stdin.read())\n")
    subprocess.run([sys.executable, "-c", code, service, account], input=token, text=True, env=env,
                   check=True, timeout=30)
