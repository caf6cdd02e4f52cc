"""Build this manuscript: ``python build.py`` (see README.md)."""
import sys
from pathlib import Path

from papergen.cli import main

if __name__ == "__main__":
    sys.exit(main(root=Path(__file__).resolve().parent))
