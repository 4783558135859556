"""Reading a crawled snapshot back for comparisons."""

from __future__ import annotations

from pathlib import Path

from ptmscope.store import Store

TABLE_ORDER = {
    "packages": "package_id",
    "package_libraries": "package_id, library, origin",
    "lineage": "child, parent_ref, relation, origin",
    "cards": "package_id",
    "package_files": "package_id, path",
    "commits": "package_id, commit_id",
}


def rows(store_path: Path, table: str, snapshot_id: str | None = None) -> list[tuple]:
    """All rows of ``table`` for the (only, or given) crawl snapshot, without snapshot_id, ordered."""
    with Store(store_path, read_only=True) as st:
        if snapshot_id is None:
            snapshot_id = st.con.execute("SELECT max(snapshot_id) FROM snapshots").fetchall()[0][0]
        cols = [c for c in st.table(table).columns if c != "snapshot_id"]
        sql = f"SELECT {', '.join(cols)} FROM {table} WHERE snapshot_id = ? ORDER BY {TABLE_ORDER[table]}"
        return st.con.execute(sql, [snapshot_id]).fetchall()


def snapshot_rows(store_path: Path, snapshot_id: str | None = None) -> dict[str, list[tuple]]:
    return {t: rows(store_path, t, snapshot_id) for t in TABLE_ORDER}


def status_of(store_path: Path) -> list[tuple[str, str, int]]:
    with Store(store_path, read_only=True) as st:
        return st.con.execute("SELECT snapshot_id, status, row_count FROM snapshots ORDER BY ingested_at").fetchall()
