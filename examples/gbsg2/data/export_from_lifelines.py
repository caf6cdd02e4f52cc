"""Write data/gbsg2.csv from the GBSG2 data set that the lifelines package ships.

Run once (``python data/export_from_lifelines.py``); the CSV is committed and the
build reads the CSV, not lifelines. The only change to the rows as lifelines
ships them is a leading ``patient`` column numbering the rows 1 to N in the
order of the package file, so every value in the ledger can name its rows.
Deterministic: the same lifelines version gives a byte-identical file.
"""
from pathlib import Path

from lifelines.datasets import load_gbsg2

OUT = Path(__file__).resolve().parent / "gbsg2.csv"


def main() -> None:
    frame = load_gbsg2()
    frame.insert(0, "patient", range(1, len(frame) + 1))
    frame.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT.name}: {len(frame)} rows, columns {', '.join(frame.columns)}")


if __name__ == "__main__":
    main()
