"""SHA-256 of a store's table contents, independent of row order and of the ingest time.

    python benchmarks/store_digest.py STORE.duckdb               # one digest per table
    python benchmarks/store_digest.py --synth-reference OUT.duckdb  # write the reference world first

Used to show that a change to the writers leaves the data as it was: run it
with the sources of the old commit (``git archive <commit> src | tar -x -C
/tmp/old`` then ``PYTHONPATH=/tmp/old/src``) and with the new ones on the
same configuration, and compare.  ``tests/test_synth.py`` holds the digests
of the reference world computed this way from commit d01993f.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import duckdb

# The reference world of tests/test_synth.py::test_store_contents_equal_the_original_generators
REFERENCE = {"models": 3000, "snapshots": 3, "seed": 5, "top_list_size": 300, "turnover_k": 100, "cards": "all"}
SKIP_COLUMNS = {"snapshots": ("ingested_at",)}  # the wall-clock time of the write


def table_digests(path: str | Path) -> dict[str, str]:
    """table -> sha256 over its rows rendered as text by DuckDB (UTC), sorted."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
            ).fetchall()
        ]
        out = {}
        for name in names:
            skip = SKIP_COLUMNS.get(name, ())
            cols = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                    "AND table_name = ? ORDER BY ordinal_position",
                    [name],
                ).fetchall()
                if r[0] not in skip
            ]
            struct = ", ".join(f'"{c}" := "{c}"' for c in cols)
            rows = [
                r[0] for r in con.execute(f'SELECT CAST(struct_pack({struct}) AS VARCHAR) FROM "{name}"').fetchall()
            ]
            rows.sort()
            h = hashlib.sha256()
            for r in rows:
                h.update(r.encode())
                h.update(b"\n")
            out[name] = f"{len(rows)}:{h.hexdigest()}"
        return out
    finally:
        con.close()


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--synth-reference":
        from ptmscope.synth import SynthConfig, write_store

        path = Path(args[1])
        path.unlink(missing_ok=True)
        write_store(path, SynthConfig(**REFERENCE))  # type: ignore[arg-type]
        args = args[1:]
    for name, d in table_digests(args[0]).items():
        print(f"{name}\t{d}")


if __name__ == "__main__":
    main()
