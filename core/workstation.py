"""This workstation's Lanewatch: where its data, settings and logs live (platformdirs), and
the few settings both front ends share (the store to open).

The settings file is a plain INI file, so an installer can write it too (NSIS's
WriteINIStr): `lanewatch.ini` in the user's configuration folder, over a site-wide one
(`/etc/xdg/lanewatch/lanewatch.ini` on Linux) that an administrator may place for every
user of a machine. A store's password is never in it; it is in the OS keyring.

The window's own preferences (theme, privacy screen, layout) stay in QSettings (ui.settings).
"""
from __future__ import annotations

import configparser
import os
from pathlib import Path

from platformdirs import site_config_path, user_config_path, user_data_path, user_log_path

APP = "lanewatch"
SETTINGS_FILE = "lanewatch.ini"


def data_folder() -> Path:
    """The default store, a tap's journal, the audit heads."""
    return user_data_path(APP, appauthor=False, ensure_exists=True)


def config_folder() -> Path:
    return user_config_path(APP, appauthor=False)


def log_folder() -> Path:
    return user_log_path(APP, appauthor=False)


def settings_file() -> Path:
    return config_folder() / SETTINGS_FILE


def _read() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    files = [site_config_path(APP, appauthor=False) / SETTINGS_FILE, settings_file()]
    try:
        parser.read([f for f in files if f.is_file()], encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        pass  # a damaged settings file means the defaults; the store says the rest
    return parser


def store_url() -> str | None:
    """The store this workstation opens when none is named (Settings → Store, or the installer)."""
    return _read().get("store", "url", fallback="").strip() or None


def set_store_url(url: str | None) -> None:
    """Remember the store to open (None: the default store in the data folder again)."""
    path = settings_file()
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        parser = configparser.ConfigParser(interpolation=None)  # damaged: written anew
    if not parser.has_section("store"):
        parser.add_section("store")
    if url:
        parser.set("store", "url", url)
    else:
        parser.remove_option("store", "url")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        parser.write(out)
    os.replace(temporary, path)
