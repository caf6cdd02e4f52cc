"""Write data/patients.csv: twelve SYNTHETIC patients so that a new study builds at once.

Not patient data. The rows come from the fixed arithmetic below (no random
numbers), so the file is the same on every machine. Replace patients.csv with
your own data and describe its columns in codebook.yaml.
"""
import csv
from pathlib import Path

OUT = Path(__file__).resolve().parent / "patients.csv"
N = 12


def rows():
    for i in range(1, N + 1):
        group = "standard" if i % 2 else "new"
        age = 45 + (i * 7) % 30                       # 45 to 74 years
        sex = "female" if i % 3 else "male"
        time = 3.0 + (i * 5) % 13 * 2.5 + (6.0 if group == "new" else 0.0)   # months of follow-up
        event = 0 if i % 4 == 0 else 1                # every fourth patient censored
        yield {"patient_id": f"P{i:02d}", "group": group, "age_years": age, "sex": sex,
               "time_months": f"{time:.1f}", "event": event}


def main() -> None:
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["patient_id", "group", "age_years", "sex", "time_months", "event"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows())
    print(f"wrote {OUT.name}: {N} synthetic patients")


if __name__ == "__main__":
    main()
