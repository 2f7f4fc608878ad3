#!/bin/sh
# Install the built bundle (dist/phhub-keys/) for the current user, or system-wide with PREFIX=/usr/local:
#   sh packaging/linux/install.sh            # into ~/.local
#   sudo PREFIX=/usr/local sh packaging/linux/install.sh
# Puts the bundle in $PREFIX/lib/phhub-keys, a phhub-keys link in $PREFIX/bin, and the desktop
# entry, AppStream metadata and hicolor icons under $PREFIX/share, so desktops list "MCP Keys".
set -eu
cd "$(dirname "$0")/../.."
PREFIX="${PREFIX:-$HOME/.local}"
APP_ID=io.github.phhub_keys
[ -x dist/phhub-keys/phhub-keys ] || { echo "build first: python packaging/build.py" >&2; exit 1; }

mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$PREFIX/share/applications" "$PREFIX/share/metainfo"
rm -rf "$PREFIX/lib/phhub-keys"
cp -R dist/phhub-keys "$PREFIX/lib/phhub-keys"
ln -sf "$PREFIX/lib/phhub-keys/phhub-keys" "$PREFIX/bin/phhub-keys"
install -m 0644 "packaging/linux/$APP_ID.desktop" "$PREFIX/share/applications/$APP_ID.desktop"
install -m 0644 "packaging/linux/$APP_ID.metainfo.xml" "$PREFIX/share/metainfo/$APP_ID.metainfo.xml"
for size in 16 24 32 48 64 128 256 512; do
  dir="$PREFIX/share/icons/hicolor/${size}x${size}/apps"
  mkdir -p "$dir"
  install -m 0644 "resources/app-icon-$size.png" "$dir/$APP_ID.png"
done
mkdir -p "$PREFIX/share/icons/hicolor/scalable/apps"
install -m 0644 resources/app-icon.svg "$PREFIX/share/icons/hicolor/scalable/apps/$APP_ID.svg"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$PREFIX/share/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$PREFIX/share/icons/hicolor" || true
echo "installed phhub-keys into $PREFIX (run: $PREFIX/bin/phhub-keys)"
