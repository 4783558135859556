"""Identity normalisation: PEP 503 names for PyPI, renamed-repo aliases for the Hub."""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib import resources

_PEP503 = re.compile(r"[-_.]+")


def pep503(name: str) -> str:
    """PyPI's normalised project name (PEP 503)."""
    return _PEP503.sub("-", name).lower()


def normalise_id(registry: str, raw_id: str) -> str:
    """The canonical ``package_id`` of a raw id (before alias resolution)."""
    raw_id = raw_id.strip()
    if registry == "pypi":
        return pep503(raw_id)
    if registry == "npm":
        return raw_id.lower()
    return raw_id


@cache
def builtin_aliases(registry: str) -> tuple[tuple[str, str], ...]:
    """Hub repos renamed in 2024 (e.g. ``bert-base-uncased`` -> ``google-bert/bert-base-uncased``).

    Shipped as ``ptmscope/data/hf_aliases.csv``; extend a store with
    :meth:`ptmscope.store.Store.add_aliases`.
    """
    if registry != "hf":
        return ()
    text = resources.files("ptmscope").joinpath("data/hf_aliases.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return tuple((r["alias"], r["canonical"]) for r in rows)


def canonical(aliases: dict[str, str], package_id: str) -> str:
    """Follow the alias table (one hop; aliases never chain in practice)."""
    return aliases.get(package_id, package_id)
