"""Validated listing items and commit pages -> the canonical tables of one snapshot.

Models go through the ``hf-api`` importer's converter
(:func:`ptmscope.sources.hf_api.records_to_tables`), so a crawl and an
imported dump are directly comparable; what that converter does not keep is
added here: the parameter count (``safetensors.total`` -> ``packages.parameters``)
and the file list (``siblings`` -> ``package_files``).  Datasets and commits
have no importer counterpart in the crawler's path and are converted here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from ..schema import to_table
from ..sources import hf_api

DOWNLOADS_WINDOW = hf_api.DOWNLOADS_WINDOW  # the Hub's ``downloads``: the last ~30 days, for datasets too


def item_id(item: Mapping[str, Any]) -> str:
    return str(item.get("id", item.get("modelId"))).strip()


def _ts(v: Any) -> dt.datetime | None:
    if not isinstance(v, str) or not v.strip():
        return None
    d = dt.datetime.fromisoformat(v.strip())  # validated as ISO-8601 before
    return (d if d.tzinfo else d.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def files_table(items: Iterable[Mapping[str, Any]], snapshot_id: str) -> pa.Table:
    """``package_files`` rows from the items' ``siblings`` (path; size when the Hub gives one)."""
    pid: list[str] = []
    path: list[str] = []
    size: list[int | None] = []
    for item in items:
        rid = item_id(item)
        seen: set[str] = set()
        for s in item.get("siblings") or ():
            name = s["rfilename"]
            if name in seen:  # a repeated file name: keep the first
                continue
            seen.add(name)
            pid.append(rid)
            path.append(name)
            size.append(s.get("size"))
    return to_table("package_files", {"package_id": pid, "path": path, "size_bytes": size}, snapshot_id)


def model_tables(
    items: list[dict[str, Any]], snapshot_id: str, *, source: str, cards: Mapping[str, str | None] | None
) -> dict[str, pa.Table]:
    """Canonical tables of one page of models (no repeated ids: the crawler drops them first)."""
    tables = hf_api.records_to_tables(items, snapshot_id, source=source, cards=cards)
    pkg = tables["packages"]
    col = pkg.column("parameters")
    if col.null_count == pkg.num_rows:  # the importer's converter does not fill it (yet)
        total = {item_id(x): ((x.get("safetensors") or {}).get("total")) for x in items}
        values = pa.array([total.get(p) for p in pkg.column("package_id").to_pylist()], pa.int64())
        tables["packages"] = pkg.set_column(pkg.schema.get_field_index("parameters"), "parameters", values)
    if "package_files" not in tables:
        tables["package_files"] = files_table(items, snapshot_id)
    return tables


def _license(item: Mapping[str, Any], tags: list[str]) -> str | None:
    cd = item.get("cardData")
    lic = cd.get("license") if isinstance(cd, dict) else None
    if isinstance(lic, list):
        lic = next((x for x in lic if isinstance(x, str)), None)
    if isinstance(lic, str) and lic.strip():
        return lic.strip()
    return next((t[len("license:") :] for t in tags if t.startswith("license:")), None)


def dataset_tables(
    items: list[dict[str, Any]], snapshot_id: str, *, cards: Mapping[str, str | None] | None
) -> dict[str, pa.Table]:
    """Canonical tables of one page of datasets: ``packages``, ``package_files`` and (with cards) ``cards``.

    ``task`` is the dataset's ``task_categories:`` tags joined with commas in
    the Hub's order (the form of the 2023-03 dataset-card study's ``task``);
    ``license`` the card's ``license``, else the first ``license:`` tag.
    """
    cols: dict[str, list[Any]] = {
        c: []
        for c in (
            "package_id", "raw_id", "downloads", "downloads_window", "likes", "author", "created_at",
            "last_modified", "task", "license", "sha", "tags",
        )
    }  # fmt: skip
    ids: set[str] = set()
    for item in items:
        rid = item_id(item)
        ids.add(rid)
        tags = list(item.get("tags") or [])
        author = item.get("author") or (rid.split("/", 1)[0] if "/" in rid else None)
        tasks = [t.split(":", 1)[1] for t in tags if t.startswith("task_categories:")]
        downloads = item.get("downloads")
        cols["package_id"].append(rid)
        cols["raw_id"].append(item.get("id"))
        cols["downloads"].append(downloads)
        cols["downloads_window"].append(DOWNLOADS_WINDOW if downloads is not None else None)
        cols["likes"].append(item.get("likes"))
        cols["author"].append(author)
        cols["created_at"].append(_ts(item.get("createdAt")))
        cols["last_modified"].append(_ts(item.get("lastModified")))
        cols["task"].append(",".join(tasks) or None)
        cols["license"].append(_license(item, tags))
        cols["sha"].append(item.get("sha"))
        cols["tags"].append(tags)
    tables = {"packages": to_table("packages", cols, snapshot_id), "package_files": files_table(items, snapshot_id)}
    if cards is not None:
        tables["cards"] = hf_api.cards_table(cards, snapshot_id, only=ids)
    return tables


def commit_message(title: str, body: str) -> str:
    """The whole commit message as git keeps it: the title line, a blank line, the body (when there is one)."""
    return f"{title}\n\n{body}" if body.strip() else title


def commits_table(package_id: str, items: list[dict[str, Any]], snapshot_id: str) -> pa.Table:
    """``commits`` rows of one page of a repository's history; files and formats are unknown (null)."""
    rows: dict[str, list[Any]] = {"package_id": [], "commit_id": [], "committed_at": [], "author": [], "message": []}
    for c in items:
        rows["package_id"].append(package_id)
        rows["commit_id"].append(c["id"])
        rows["committed_at"].append(_ts(c["date"]))
        rows["author"].append(", ".join(a["user"] for a in c["authors"]) or None)
        rows["message"].append(commit_message(c["title"], c["message"]))
    return to_table("commits", rows, snapshot_id)
