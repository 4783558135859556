"""npm-high-impact's ``lib/top-download.js`` (format ``npm-high-impact``).

The file is JavaScript: ``export const topDownload = ['name', 'name', ...]``.
It is parsed as data -- a tokenizer for an array of string literals (single
or double quotes, escapes, comments, trailing commas) -- and never evaluated.
Anything else in the file is an error naming its line and column.

Mapping: each string -> ``raw_id`` (``package_id`` lower-cased), position ->
``rank``.  There are no counts (``downloads`` null): the list is every package
above 1M downloads, ranked by npm's last-week downloads (v1.0-1.11) or the
ecosyste.ms ``downloads`` field (v1.12+).  Date: ``--date``, else the
``data_date`` of a ``snapshots.csv`` beside the file, else ask for ``--date``.
The manifest records the release ``version`` (from ``snapshots.csv`` or a
``1.12.0_...`` file name) and the ``ranking_measure`` it implies
(:func:`ranking_measure`), so turnover can warn where the measure changes.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from ..schema import SnapshotBatch
from ._common import (
    Notes,
    ReadOptions,
    build_packages,
    check_registry,
    finish,
    need_date,
    read_text,
    sidecar_date,
    sidecar_for,
)

FORMAT = "npm-high-impact"

_HEAD = re.compile(
    r"\s*(?:export\s+(?:const|let|var)\s+[A-Za-z_$][\w$]*\s*=|module\.exports\s*=|(?:const|let|var)\s+[A-Za-z_$][\w$]*\s*=)?\s*\["
)
_VERSION_IN_NAME = re.compile(r"^v?(\d+\.\d+\.\d+)[_-]")
_ESC = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0", "\\": "\\", "'": "'", '"': '"'}


def ranking_measure(version: str) -> str | None:
    """What a release ranks by: npm's last-week downloads up to v1.11, the ecosyste.ms downloads field from v1.12."""
    m = re.match(r"v?(\d+)\.(\d+)", version)
    if not m:
        return None
    return "npm-downloads-last-week" if (int(m[1]), int(m[2])) < (1, 12) else "ecosystems-downloads"


def detect(path: Path, head: bytes) -> bool:
    h = head[:2048].decode("utf-8", "replace")
    return ("topDownload" in h or path.name.endswith((".js", ".js.gz", ".mjs"))) and bool(
        _HEAD.match(_strip_comments_head(h))
    )


def _strip_comments_head(text: str) -> str:
    t = text.lstrip()
    while t.startswith("//") or t.startswith("/*"):
        if t.startswith("//"):
            t = t.split("\n", 1)[1] if "\n" in t else ""
        else:
            end = t.find("*/")
            t = t[end + 2 :] if end >= 0 else ""
        t = t.lstrip()
    return t


def _where(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def parse_string_array(text: str, path: Path | str) -> list[str]:
    """The string literals of the first JS array in ``text`` (an export of one array)."""
    n = len(text)
    i = 0

    def skip_ws(i: int) -> int:
        while i < n:
            c = text[i]
            if c.isspace():
                i += 1
            elif text.startswith("//", i):
                j = text.find("\n", i)
                i = n if j < 0 else j + 1
            elif text.startswith("/*", i):
                j = text.find("*/", i + 2)
                if j < 0:
                    raise InputError(path, "unterminated comment", line=_where(text, i)[0], column=_where(text, i)[1])
                i = j + 2
            else:
                break
        return i

    i = skip_ws(0)
    m = _HEAD.match(text, i)
    if not m:
        line, col = _where(text, i)
        raise InputError(
            path, "expected `export const topDownload = [` (an array of package names)", line=line, column=col
        )
    i = m.end()
    out: list[str] = []
    while True:
        i = skip_ws(i)
        if i >= n:
            raise InputError(path, "unterminated array (file truncated?)", line=_where(text, n)[0])
        c = text[i]
        if c == "]":
            i += 1
            break
        if c not in "'\"":
            line, col = _where(text, i)
            raise InputError(path, f"expected a quoted package name, found {c!r}", line=line, column=col)
        quote = c
        j = i + 1
        buf = []
        while True:
            if j >= n or text[j] == "\n":
                line, col = _where(text, i)
                raise InputError(path, "unterminated string", line=line, column=col)
            ch = text[j]
            if ch == "\\":
                nxt = text[j + 1] if j + 1 < n else ""
                if nxt == "u" and j + 6 <= n:
                    try:
                        code = int(text[j + 2 : j + 6], 16)
                    except ValueError:
                        line, col = _where(text, j)
                        raise InputError(path, "bad \\u escape", line=line, column=col) from None
                    j += 6
                    if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", j):  # a surrogate pair: one character
                        try:
                            low = int(text[j + 2 : j + 6], 16)
                        except ValueError:
                            low = -1
                        if 0xDC00 <= low <= 0xDFFF:
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            j += 6
                    if 0xD800 <= code <= 0xDFFF:
                        line, col = _where(text, j - 6)
                        raise InputError(path, "a lone surrogate \\u escape is not Unicode text", line=line, column=col)
                    buf.append(chr(code))
                    continue
                buf.append(_ESC.get(nxt, nxt))
                j += 2
                continue
            if ch == quote:
                break
            buf.append(ch)
            j += 1
        out.append("".join(buf))
        i = skip_ws(j + 1)
        if i < n and text[i] == ",":
            i += 1
        elif i < n and text[i] == "]":
            continue
        else:
            line, col = _where(text, min(i, n))
            raise InputError(path, "expected ',' or ']' after a package name", line=line, column=col)
    i = skip_ws(i)
    if i < n and text[i] == ";":
        i = skip_ws(i + 1)
    if i < n:
        line, col = _where(text, i)
        raise InputError(path, "unexpected content after the array", line=line, column=col)
    return out


def read(path: Path, opts: ReadOptions | None = None) -> SnapshotBatch:
    opts = opts or ReadOptions()
    registry = check_registry(path, FORMAT, opts.registry, ("npm",))
    names = parse_string_array(read_text(path), path)
    notes = Notes()
    pkg, _ = build_packages(
        registry,
        {"raw_id": names, "rank": list(range(1, len(names) + 1))},
        path=path,
        notes=notes,
        line_offset=1,
        id_column="name",
    )
    side = sidecar_for(path, opts)
    measure = (side or {}).get("measure")
    notes.add("ranked list without counts: packages above 1M downloads" + (f" ({measure})" if measure else ""))
    if side and str(side.get("duplicate_of_previous", "")).lower() == "true":
        notes.add("same data as the previous version (re-release)")
    taken_at = opts.taken_at
    if taken_at is None:
        taken_at = sidecar_date(path, side, "data_date")
        if taken_at is not None and "unverified" in ((side or {}).get("origin") or ""):
            notes.add("date unverified (registry publish time)")
    if taken_at is None:
        raise need_date(path)
    manifest = {k: side[k] for k in ("version", "data_commit") if side and side.get(k)}
    in_name = _VERSION_IN_NAME.match(path.name)
    if "version" not in manifest and in_name:
        manifest["version"] = in_name[1]
    measure_key = ranking_measure(manifest.get("version", ""))
    if measure_key:
        manifest["ranking_measure"] = measure_key
    return finish(
        path,
        fmt=FORMAT,
        registry=registry,
        taken_at=taken_at,
        tables={"packages": pkg},
        notes=notes,
        manifest=manifest or None,
    )
