"""The frozen bundle and the .deb, as a workstation gets them: started for real.

.ci/run builds both first (packaging/build.py) and names them in LANEWATCH_BUNDLE and
LANEWATCH_DEB. On a developer's machine these tests skip unless those are set; in CI
(CI=true) a missing build fails them, since skipping would hide a bundle that no longer starts.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers.stores import demo_queue_filled

pytestmark = pytest.mark.slow


def _built(variable: str, what: str) -> Path:
    value = os.environ.get(variable)
    if not value or not Path(value).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{variable} does not name a built {what} in CI ({value!r}): .ci/run builds it with packaging/build.py")
        pytest.skip(f"no {what}: build it with `uv run python packaging/build.py` and set {variable}")
    return Path(value)


@pytest.fixture
def workstation(tmp_path) -> dict[str, str]:
    """The environment of a workstation that has never run Lanewatch."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANEWATCH_", "PYTHON", "VIRTUAL_ENV"))}
    for name in ("DATA", "CONFIG", "STATE"):
        env[f"XDG_{name}_HOME"] = str(tmp_path / name.lower())
    env.update(HOME=str(tmp_path), TMPDIR=str(tmp_path), XDG_CONFIG_DIRS=str(tmp_path / "etc"), QT_QPA_PLATFORM="offscreen")
    return env


def _run(program: Path | str, *args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(program), *args], env=env, capture_output=True, text=True, timeout=timeout)


def check_version(program: Path | str, env: dict[str, str]) -> None:
    done = _run(program, "--version", env=env)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"Lanewatch \d+\.\d+\.\d+ \(commit [0-9a-f]{12}(\+changes)?\), bundle\n", done.stdout), done.stdout


def check_headless(program: Path | str, env: dict[str, str], folder: Path) -> None:
    """A verb that ingests and one that reads, then bad input: one line and an exit code, no traceback."""
    db = folder / "cli.db"
    done = _run(program, "demo", "--count", "400", "--db", str(db), env=env)
    assert done.returncode == 0, done.stderr
    assert " messages in " in done.stdout
    listed = _run(program, "queue", "--db", str(db), "--json", env=env)
    assert listed.returncode in (0, 4) and listed.stdout.count("\n") > 0, listed.stderr
    missing = _run(program, "messages", "--db", str(folder / "nowhere" / "x.db"), env=env)
    assert missing.returncode == 3 and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "no Lanewatch store" in missing.stderr


def check_window(program: Path | str, env: dict[str, str], folder: Path) -> None:
    """The demo in a window (offscreen): it shows, ingests until the queue fills, and on
    SIGTERM closes cleanly (exit 0, 'closed' in the log, no PHI in it)."""
    log = Path(env["XDG_STATE_HOME"]) / "lanewatch" / "log" / "lanewatch.log"
    proc = subprocess.Popen([str(program), "--demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        queued = False
        while time.monotonic() < deadline and not queued:
            assert proc.poll() is None, f"the console quit early: {proc.communicate()[1][-2000:]}"
            queued = demo_queue_filled(folder)
            time.sleep(0.3)
        assert queued, "the demo's queue did not fill within 120 s"
        assert "window open on a sqlite store (demo)" in log.read_text(encoding="utf-8")
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    text = log.read_text(encoding="utf-8")
    assert text.rstrip().endswith("closed")
    demo_names = ("SMITH", "JOHNSON", "WILLIAMS")  # the demo's patients' family names
    assert not any(name in text for name in demo_names)


def test_the_bundle_says_its_version_and_commit(workstation):
    check_version(_built("LANEWATCH_BUNDLE", "bundle"), workstation)


def test_the_bundle_runs_headless_verbs_with_good_and_bad_input(workstation, tmp_path):
    check_headless(_built("LANEWATCH_BUNDLE", "bundle"), workstation, tmp_path)


def test_the_bundle_opens_the_demo_ingests_and_closes_cleanly(workstation, tmp_path):
    check_window(_built("LANEWATCH_BUNDLE", "bundle"), workstation, tmp_path)


def test_the_bundle_names_missing_system_libraries_before_qt_loads(workstation, tmp_path):
    """A machine without libxcb-cursor0 (as a fresh Ubuntu is): one line with the package to
    install, exit 1, no Qt abort. The machine's ldd is stood in for by one that reports it missing."""
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    (bin_folder / "ldd").write_text("#!/bin/sh\necho '\tlibxcb-cursor.so.0 => not found'\n")
    (bin_folder / "ldd").chmod(0o755)
    env = {**workstation, "PATH": f"{bin_folder}:{workstation['PATH']}", "DISPLAY": ":99"}
    env.pop("QT_QPA_PLATFORM")
    done = _run(_built("LANEWATCH_BUNDLE", "bundle"), "--demo", env=env, timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "libxcb-cursor0" in done.stderr and "apt-get install" in done.stderr


def test_the_deb_installs_runs_and_removes(workstation, tmp_path):
    """Installed with apt (which brings Qt's system libraries), used as /usr/bin/lanewatch, removed."""
    package = _built("LANEWATCH_DEB", ".deb")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("installing the .deb needs root and apt-get") if os.environ.get("CI") == "true" else \
            pytest.skip("installing the .deb needs root and apt-get")
    apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    installed = subprocess.run(["apt-get", "install", "-y", "-q", str(package.resolve())], env=apt,
                               capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    try:
        for path in ("/opt/lanewatch/lanewatch", "/usr/share/applications/org.lanewatch.Lanewatch.desktop",
                     "/usr/share/metainfo/org.lanewatch.Lanewatch.metainfo.xml",
                     "/usr/share/icons/hicolor/256x256/apps/org.lanewatch.Lanewatch.png",
                     "/usr/share/icons/hicolor/scalable/apps/org.lanewatch.Lanewatch.svg"):
            assert Path(path).exists(), path
        assert shutil.which("lanewatch", path="/usr/bin") == "/usr/bin/lanewatch"
        check_version("/usr/bin/lanewatch", workstation)
        check_headless("/usr/bin/lanewatch", workstation, tmp_path)
        check_window("/usr/bin/lanewatch", workstation, tmp_path)
    finally:
        removed = subprocess.run(["apt-get", "remove", "-y", "-q", "lanewatch"], env=apt, capture_output=True, text=True,
                                 timeout=300)
    assert removed.returncode == 0, removed.stderr
    assert not Path("/opt/lanewatch").exists() and not Path("/usr/bin/lanewatch").exists()
