"""The installers' recipes: the Linux metadata validated, the Windows installers compiled
here (Debian's makensis and wixl) around a stand-in payload, and their file lists read back.

The tools come from Debian (.ci/run installs them); without them these tests skip on a
developer's machine and fail in CI.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
STAND_IN = ["lanewatch.exe", "lanewatchw.exe", "_internal/python311.dll", "_internal/resources/lanes.toml"]


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is missing in CI: .ci/run installs it")
        pytest.skip(f"{name} is not installed (Debian: apt-get install {name})")
    return found


def build(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(PACKAGING / "build.py"), *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


def test_the_desktop_entry_and_the_appstream_metainfo_validate():
    done = subprocess.run([tool("desktop-file-validate"), str(PACKAGING / "org.lanewatch.Lanewatch.desktop")],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "error" not in done.stdout, done.stdout
    done = subprocess.run([tool("appstreamcli"), "validate", "--no-net", "--pedantic",
                           str(PACKAGING / "org.lanewatch.Lanewatch.metainfo.xml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_the_nsis_installer_compiles_and_carries_the_payload_and_an_uninstaller():
    tool("makensis")
    listing_tool = tool("7z")
    said = build("nsis", "--stand-in").stdout
    assert "is not signed" in said  # no certificate here: signing is skipped, and says so
    setup = next((ROOT / "dist").glob("lanewatch-*-setup.exe"))
    assert setup.read_bytes()[:2] == b"MZ"
    listing = subprocess.run([listing_tool, "l", str(setup)], capture_output=True, text=True, check=True).stdout
    for name in [*STAND_IN, "uninstall.exe"]:
        assert re.search(rf"\s{re.escape(name)}$", listing, re.MULTILINE), name


def test_the_msi_compiles_with_every_payload_file_and_a_start_menu_entry():
    tool("wixl")
    msiinfo = tool("msiinfo")
    build("msi", "--stand-in")
    msi = next((ROOT / "dist").glob("lanewatch-*.msi"))
    files = subprocess.run([msiinfo, "export", str(msi), "File"], capture_output=True, text=True, check=True).stdout
    for name in STAND_IN:
        assert f"\t{Path(name).name}\t" in files, name
    shortcuts = subprocess.run([msiinfo, "export", str(msi), "Shortcut"], capture_output=True, text=True, check=True).stdout
    assert "Lanewatch" in shortcuts and "lanewatchw.exe" in shortcuts
    directories = subprocess.run([msiinfo, "export", str(msi), "Directory"], capture_output=True, text=True, check=True).stdout
    assert "\t.\t" not in directories and "|." not in directories  # no folder named "." (wixl-heat's habit, undone)


def test_the_installer_writes_the_settings_file_lanewatch_reads_on_windows():
    """The NSIS page's shared store goes to the file core.workstation reads there (platformdirs)."""
    import platformdirs.windows as windows

    script = (PACKAGING / "windows" / "lanewatch.nsi").read_text(encoding="utf-8")
    written = re.search(r'!define SETTINGS "\$LOCALAPPDATA\\(.+)"', script).group(1).replace("\\", "/")
    local = r"C:\Users\op\AppData\Local"
    with mock.patch.object(windows, "get_win_folder", lambda csidl: local if csidl == "CSIDL_LOCAL_APPDATA" else "X"):
        folder = windows.Windows(appname="lanewatch", appauthor=False).user_config_dir
    from core.workstation import SETTINGS_FILE

    assert f"{folder}/{SETTINGS_FILE}".replace("\\", "/") == f"{local}/{written}".replace("\\", "/")
    assert 'WriteINIStr "${SETTINGS}" "store" "url"' in script


def test_the_release_workflow_builds_smoke_tests_and_packages_on_three_systems():
    """Not run here (no runners for Windows or macOS): its shape is checked instead."""
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    assert re.search(r"os: \[ubuntu-22.04, windows-2022, macos-14\]", workflow)
    for step in ("packaging/build.py", "--version", "demo --count", "LANEWATCH_SIGN_PFX", "LANEWATCH_MAC_IDENTITY"):
        assert step in workflow, step
