"""Build Lanewatch for a workstation: the frozen bundle, then this platform's installer.

    uv run python packaging/build.py            # bundle + this platform's package
    uv run python packaging/build.py bundle     # dist/lanewatch/ only
    uv run python packaging/build.py deb        # dist/lanewatch_<version>_<arch>.deb (needs the bundle)
    uv run python packaging/build.py nsis [--stand-in]   # dist/lanewatch-<version>-setup.exe
    uv run python packaging/build.py msi [--stand-in]    # dist/lanewatch-<version>.msi (wixl)

On Linux the package is a .deb (dpkg-deb); on Windows the NSIS installer; on macOS the
bundle is an .app in a zip. `--stand-in` compiles the Windows installers around a stand-in
payload (a few placeholder files where the Windows bundle would be), so that their scripts
and file lists are tested on a Linux machine with Debian's makensis and wixl.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.version import git_commit  # noqa: E402  (after the path is set)
from ui.system_libraries import PACKAGES  # noqa: E402

APP_ID = "org.lanewatch.Lanewatch"
BUILD, DIST = ROOT / "build", ROOT / "dist"
PACKAGING = ROOT / "packaging"
WIX = "http://schemas.microsoft.com/wix/2006/wi"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
BUNDLE = DIST / "lanewatch"
# what Qt needs from the system beyond what the bundle carries, plus what the launcher uses to check for it
DEB_DEPENDS = sorted(set(PACKAGES.values()) | {"libc6 (>= 2.31)", "libc-bin"})


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def run(*command: str | Path, **kwargs) -> None:
    print("+", " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], check=True, **kwargs)


def icons() -> Path:
    """The app icon rendered from resources/icons/app.svg at every hicolor size, plus .ico
    (Windows) and .icns (macOS) made from them with Pillow."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    out = BUILD / "icons"
    out.mkdir(parents=True, exist_ok=True)
    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(ROOT / "resources" / "icons" / "app.svg"))
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        image.save(str(out / f"lanewatch-{size}.png"))
    largest = Image.open(out / "lanewatch-512.png")
    largest.save(out / "lanewatch.ico", sizes=[(s, s) for s in ICON_SIZES if s <= 256])
    largest.save(out / "lanewatch.icns")
    return out


def bundle() -> Path:
    """dist/lanewatch/: PyInstaller onedir from packaging/lanewatch.spec."""
    BUILD.mkdir(exist_ok=True)
    (BUILD / "build_info.json").write_text(json.dumps({"version": version(), "commit": git_commit(ROOT)}), encoding="utf-8")
    icons()
    run(sys.executable, "-m", "PyInstaller", PACKAGING / "lanewatch.spec", "--noconfirm", "--clean",
        "--distpath", DIST, "--workpath", BUILD / "pyinstaller", "--log-level", "WARN")
    size = sum(f.lstat().st_size for f in BUNDLE.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"bundle: {BUNDLE} ({size / 2**20:.0f} MiB)")
    return BUNDLE


def architecture() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def deb() -> Path:
    """A .deb: the bundle under /opt/lanewatch, /usr/bin/lanewatch, the desktop entry, the
    hicolor icons and the AppStream metainfo under the app id; Qt's system libraries declared."""
    if not (BUNDLE / "lanewatch").exists():
        raise SystemExit(f"no bundle at {BUNDLE}: build it first (packaging/build.py bundle)")
    root = BUILD / "deb" / "root"
    shutil.rmtree(root.parent, ignore_errors=True)
    shutil.copytree(BUNDLE, root / "opt" / "lanewatch", symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "lanewatch").symlink_to("/opt/lanewatch/lanewatch")
    share = root / "usr" / "share"
    for folder, source, name in (
        ("applications", PACKAGING / f"{APP_ID}.desktop", f"{APP_ID}.desktop"),
        ("metainfo", PACKAGING / f"{APP_ID}.metainfo.xml", f"{APP_ID}.metainfo.xml"),
        ("icons/hicolor/scalable/apps", ROOT / "resources" / "icons" / "app.svg", f"{APP_ID}.svg"),
        ("doc/lanewatch", PACKAGING / "debian" / "copyright", "copyright"),
    ):
        (share / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(source, share / folder / name)
    rendered = BUILD / "icons"
    for size in ICON_SIZES:
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(rendered / f"lanewatch-{size}.png", target / f"{APP_ID}.png")
    installed_kib = sum(f.stat().st_size for f in root.rglob("*") if f.is_file() and not f.is_symlink()) // 1024
    control = (PACKAGING / "debian" / "control").read_text(encoding="utf-8").format(
        version=version(), architecture=architecture(), depends=", ".join(DEB_DEPENDS), installed_size=installed_kib)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(control, encoding="utf-8")
    for path in root.rglob("*"):  # a package's files are root's, readable by all, whatever this checkout's umask
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    out = DIST / f"lanewatch_{version()}_{architecture()}.deb"
    run("dpkg-deb", "--root-owner-group", "-Zxz", "-z3", "--build", root, out)
    print(f"deb: {out} ({out.stat().st_size / 2**20:.0f} MiB)")
    return out


def stand_in() -> Path:
    """A stand-in for the Windows bundle: the files the installers name, a few bytes each."""
    payload = BUILD / "stand-in" / "lanewatch"
    shutil.rmtree(payload.parent, ignore_errors=True)
    (payload / "_internal" / "resources" / "icons").mkdir(parents=True)
    for name in ("lanewatch.exe", "lanewatchw.exe", "_internal/python311.dll", "_internal/base_library.zip",
                 "_internal/resources/lanes.toml", "_internal/resources/icons/app.svg"):
        (payload / name).write_bytes(b"stand-in for the Windows bundle\n")
    return payload


def nsis(payload: Path) -> Path:
    icon = icons() / "lanewatch.ico"
    out = DIST / f"lanewatch-{version()}-setup.exe"
    DIST.mkdir(exist_ok=True)
    run("makensis", "-V2", "-INPUTCHARSET", "UTF8", f"-DVERSION={version()}", f"-DPAYLOAD={payload}", f"-DOUTFILE={out}",
        f"-DICON={icon}", PACKAGING / "windows" / "lanewatch.nsi")
    sign(out)
    return out


def msi(payload: Path) -> Path:
    """An MSI with Debian's wixl: the payload's file list made by wixl-heat, then compiled."""
    from xml.etree import ElementTree

    files = "\n".join(str(p.relative_to(payload.parent)) for p in sorted(payload.rglob("*")) if p.is_file())
    listing = subprocess.run(["wixl-heat", "-p", f"{payload.name}/", "--directory-ref", "INSTALLDIR", "--component-group",
                              "Payload", "--var", "var.Payload"], input=files, capture_output=True, text=True, check=True,
                             cwd=payload.parent)
    ElementTree.register_namespace("", WIX)
    tree = ElementTree.fromstring(listing.stdout)
    for parent in list(tree.iter()):  # wixl-heat files the top folder's own files under a folder named "."
        for here in [c for c in parent if c.tag == f"{{{WIX}}}Directory" and c.get("Name") == "."]:
            parent.extend(list(here))
            parent.remove(here)
    fragment = BUILD / "payload.wxs"
    fragment.write_bytes(ElementTree.tostring(tree, xml_declaration=True, encoding="utf-8"))
    out = DIST / f"lanewatch-{version()}.msi"
    DIST.mkdir(exist_ok=True)
    # wixl finds sources relative to where it runs, not by absolute paths
    run("wixl", "-D", f"Version={version()}", "-D", f"Payload={payload.name}", "-o", out,
        PACKAGING / "windows" / "lanewatch.wxs", fragment, cwd=payload.parent)
    sign(out)
    return out


def sign(path: Path) -> None:
    """Authenticode signing when a certificate is configured (CI secrets); skipped, and said, when not."""
    certificate, password = os.environ.get("LANEWATCH_SIGN_PFX"), os.environ.get("LANEWATCH_SIGN_PASSWORD", "")
    if not certificate:
        print(f"sign: no certificate configured (LANEWATCH_SIGN_PFX): {path.name} is not signed")
        return
    tool = shutil.which("signtool") or shutil.which("osslsigncode")
    if tool is None:
        raise SystemExit("sign: a certificate is configured but neither signtool nor osslsigncode is installed")
    if Path(tool).stem == "signtool":
        run(tool, "sign", "/f", certificate, "/p", password, "/fd", "SHA256", "/tr", "http://timestamp.digicert.com",
            "/td", "SHA256", path)
    else:
        signed = path.with_suffix(".signed" + path.suffix)
        run(tool, "sign", "-pkcs12", certificate, "-pass", password, "-h", "sha256", "-in", path, "-out", signed)
        signed.replace(path)


def mac_app() -> Path:
    """The .app PyInstaller made, signed when an identity is configured, zipped for download."""
    app = DIST / "Lanewatch.app"
    identity = os.environ.get("LANEWATCH_MAC_IDENTITY")
    if identity:
        run("codesign", "--deep", "--force", "--options", "runtime", "--sign", identity, app)
    else:
        print("sign: no identity configured (LANEWATCH_MAC_IDENTITY): Lanewatch.app is not signed")
    out = DIST / f"lanewatch-{version()}-macos.zip"
    run("ditto", "-c", "-k", "--keepParent", app, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/build.py", description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="all", choices=("all", "bundle", "deb", "nsis", "msi"))
    parser.add_argument("--stand-in", action="store_true", help="compile nsis/msi around a stand-in payload")
    args = parser.parse_args(argv)
    if args.what in ("nsis", "msi"):
        payload = stand_in() if args.stand_in else BUNDLE
        (nsis if args.what == "nsis" else msi)(payload)
        return 0
    if args.what in ("all", "bundle"):
        bundle()
    if args.what == "deb" or (args.what == "all" and sys.platform.startswith("linux")):
        deb()
    if args.what == "all" and sys.platform == "win32":
        nsis(BUNDLE)
    if args.what == "all" and sys.platform == "darwin":
        mac_app()
    return 0


if __name__ == "__main__":
    sys.exit(main())
