"""Before Qt loads on Linux: the system libraries its window (the xcb platform plugin) needs,
and which are missing, named as the Debian/Ubuntu packages that bring them. Qt's own message
for this ("could not load the Qt platform plugin") names none of them. Never imports Qt."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from core.version import bundle_folder

# the shared objects Qt 6's xcb plugin links against beyond a bare system, by Debian package
PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-xinerama.so.0": "libxcb-xinerama0", "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxkbcommon.so.0": "libxkbcommon0", "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libOpenGL.so.0": "libopengl0", "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3", "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-render.so.0": "libxcb-render0", "libxcb.so.1": "libxcb1",
    "libfreetype.so.6": "libfreetype6", "libglib-2.0.so.0": "libglib2.0-0",
}
_NOT_FOUND = re.compile(r"^\s*(\S+) => not found", re.MULTILINE)


def has_display() -> bool:
    """False on a Linux machine with no desktop session (a server, a container, CI)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def plugin() -> Path | None:
    """Qt's xcb platform plugin in the installed PySide6 (or beside a frozen bundle)."""
    roots = [bundle / "PySide6"] if (bundle := bundle_folder()) else []
    spec = importlib.util.find_spec("PySide6")
    roots += [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    for root in roots:
        candidate = root / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if candidate.exists():
            return candidate
    return None


def missing(plugin_path: Path | None = None) -> list[str]:
    """The shared objects the window needs and the system lacks (empty when all is there or
    when it cannot be told, in which case Qt speaks for itself)."""
    plugin_path = plugin_path or plugin()
    if plugin_path is None:
        return []
    try:
        out = subprocess.run(["ldd", str(plugin_path)], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(set(_NOT_FOUND.findall(out)))


def advice(libraries: list[str]) -> str:
    """One line: what is missing, how to install it, and the headless way in meanwhile."""
    packages = sorted({PACKAGES.get(lib, lib) for lib in libraries})
    return (f"lanewatch: the console's window needs system libraries this machine lacks ({', '.join(libraries)}): "
            f"install them with `sudo apt-get install {' '.join(packages)}` (Debian/Ubuntu), then start again; "
            "meanwhile `lanewatch demo` runs the demo headless.")


def window_can_open() -> str | None:
    """None when the window can try to open; else the line to print. Only on Linux with the
    xcb platform (Wayland, offscreen and the other platforms have their own needs)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or (platform and not platform.startswith("xcb")):
        return None
    if not platform and os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        return None
    libraries = missing()
    return advice(libraries) if libraries else None
