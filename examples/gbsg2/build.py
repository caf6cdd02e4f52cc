"""Build the GBSG2 example manuscript: ``python examples/gbsg2/build.py`` (see README.md here)."""
import sys
from pathlib import Path

from papergen.cli import main

if __name__ == "__main__":
    sys.exit(main(root=Path(__file__).resolve().parent))
