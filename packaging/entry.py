"""Entry point of the frozen ``bulkdash`` binary (PyInstaller): the same CLI as ``python -m app``."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # NiceGUI's process pool and the native window spawn this binary again
    from app.cli import main

    sys.exit(main())
