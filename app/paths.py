"""Where bulkdash's bundled files are: ``app/assets/`` (the sample sheet), found the same way everywhere.

The files live in the repository's top-level ``assets/``; ``app/assets`` is a symlink to it, so they are package
data of ``app`` and sit beside this module in a checkout, in an installed wheel (``site-packages/app/assets``,
copied as plain files) and in the PyInstaller binary (``sys._MEIPASS/app/assets``).
"""

from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
SAMPLE_NAME = "sample_campaign.csv"


def assets_dir() -> Path:
    """The bundled ``assets`` folder."""
    return ASSETS_DIR


def sample_sheet() -> Path:
    """The bundled sample sheet (``bulkdash demo`` and the new-job form's "sample" source)."""
    return ASSETS_DIR / SAMPLE_NAME
