"""The window's system libraries are named, as packages, before Qt tries and fails."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from ui import system_libraries


@pytest.fixture
def plugin_missing_a_library(tmp_path):
    """A shared object linked against a library that no system has (its soname is made up), so
    it is missing whatever this machine has installed."""
    if not shutil.which("gcc") or not shutil.which("ldd"):
        pytest.skip("needs gcc and ldd")
    (tmp_path / "lib.c").write_text("int xcb_icccm_stub(void) { return 0; }\n")
    (tmp_path / "plugin.c").write_text("int xcb_icccm_stub(void); int use(void) { return xcb_icccm_stub(); }\n")
    lib = tmp_path / "liblanewatch-test-gone.so.4"
    subprocess.run(["gcc", "-shared", "-fPIC", "-Wl,-soname,liblanewatch-test-gone.so.4", "-o", str(lib),
                    str(tmp_path / "lib.c")], check=True)
    plugin = tmp_path / "libqxcb.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugin), str(tmp_path / "plugin.c"), str(lib)], check=True)
    lib.unlink()
    return plugin


def test_a_missing_library_is_named_with_its_package(plugin_missing_a_library):
    assert system_libraries.missing(plugin_missing_a_library) == ["liblanewatch-test-gone.so.4"]
    line = system_libraries.advice(["libxcb-icccm.so.4", "libxcb-cursor.so.0"])
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in line and "lanewatch demo" in line
    assert "\n" not in line


def test_the_check_speaks_only_for_the_xcb_window(monkeypatch, plugin_missing_a_library):
    monkeypatch.setattr(system_libraries, "plugin", lambda: plugin_missing_a_library)
    monkeypatch.setattr(system_libraries.sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert system_libraries.window_can_open() is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert "liblanewatch-test-gone.so.4" in system_libraries.window_can_open()


def test_the_installed_plugin_is_found():
    assert system_libraries.plugin() is not None and system_libraries.plugin().name == "libqxcb.so"
