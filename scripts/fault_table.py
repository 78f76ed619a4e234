"""Print the fault-injection suite's figures (artifacts/faults/*.json, written by tests/faults) as a table.

scripts/test runs it after pytest; the README's "Faults" section quotes a run of it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = ("kills", "acknowledged", "lost", "duplicates", "integrity_problems", "server_errors", "busy")


def main(folder: Path) -> int:
    rows = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    if not rows:
        print(f"no figures in {folder} (tests/faults write them when RUECKENLOTSE_FAULT_REPORT is set)")
        return 0  # a run of some tests only (scripts/test tests/x) has none
    print("| scenario | database | " + " | ".join(c.replace("_", " ") for c in COLUMNS) + " | notes |")
    print("| --- | --- | " + " | ".join("---:" for _ in COLUMNS) + " | --- |")
    totals: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: (r["engine"], r["scenario"])):
        notes = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(row["notes"].items()))
        print(
            f"| {row['scenario']} | {row['engine']} | "
            + " | ".join(str(row[c]) for c in COLUMNS)
            + f" | {notes} |"
        )
        totals[row["engine"]] = totals.get(row["engine"], 0) + int(row["kills"])
    print()
    print("kills per database: " + ", ".join(f"{engine} {kills}" for engine, kills in sorted(totals.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/faults")))
