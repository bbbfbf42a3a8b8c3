"""Builds the one-file ``bulkdash`` executable into ``dist/bulkdash`` with PyInstaller.

    python packaging/build_binary.py [--smoke]

Installs PyInstaller into the running interpreter's environment when it is missing, builds from
``packaging/bulkdash.spec`` (NiceGUI's static files, ffmpeg from imageio-ffmpeg, the espeak-ng library and data,
the Alembic migrations and ``app/assets/`` go inside), prints the size, and with ``--smoke`` runs
``packaging/smoke_binary.py`` on the result.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "bulkdash.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
PYINSTALLER = "pyinstaller>=6.10,<7"


def ensure_pyinstaller() -> None:
    """PyInstaller in this environment (pip-installed on first use)."""
    if importlib.util.find_spec("PyInstaller") is None:
        print(f"installing {PYINSTALLER} ...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", PYINSTALLER], check=True)


def build() -> Path:
    """Runs PyInstaller on the spec; returns the binary's path."""
    ensure_pyinstaller()
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
        "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC),
    ]  # fmt: skip
    t0 = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True)
    binary = DIST / ("bulkdash.exe" if sys.platform == "win32" else "bulkdash")
    if not binary.is_file():
        raise SystemExit(f"PyInstaller finished but {binary} is missing")
    size = binary.stat().st_size / 1e6
    print(f"built {binary} ({size:.1f} MB) in {time.monotonic() - t0:.0f}s", flush=True)
    return binary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="run the smoke check on the built binary")
    args = parser.parse_args(argv)
    binary = build()
    if args.smoke:
        return subprocess.run([sys.executable, str(ROOT / "packaging" / "smoke_binary.py"), str(binary)]).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
