"""One look for every figure, and byte-reproducible output.

``save(fig, path)`` writes SVG, PNG or PDF by the file's suffix with fixed
metadata (no creation date, fixed SVG id salt), so the same data gives the
same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.rcsetup import cycler

from ..errors import PtmscopeError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

FORMATS = (".svg", ".png", ".pdf")
PALETTE = ["#1f4e79", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d96a3", "#2e4057", "#a23b72"]
REGISTRY_COLOURS = {"hf": "#edae49", "npm": "#d1495b", "pypi": "#1f4e79"}

_RC: dict[RcKeyType, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=PALETTE),
    "svg.hashsalt": "ptmscope",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
}


def new_figure(ncols: int = 1, nrows: int = 1, *, width: float = 6.0, height: float = 3.4, **kw: Any):
    """A figure and its axes in the house style (``plt.subplots`` arguments)."""
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), **kw)
    return fig, axes


def style():
    """Context manager applying the house style while drawing."""
    return plt.rc_context(_RC)


def not_measurable(ax: Any, text: str) -> None:
    """Leave a panel empty but for why it could not be drawn."""
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=8, transform=ax.transAxes)
    ax.set_axis_off()


def save(fig: Any, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` (.svg, .png or .pdf) reproducibly and close it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise PtmscopeError(f"{path}: unsupported figure format {suffix or '(none)'}; use one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    by_suffix: dict[str, dict[str, str | None]] = {
        ".svg": {"Date": None, "Creator": "ptmscope"},
        ".png": {"Software": "ptmscope"},
        ".pdf": {"CreationDate": None, "ModDate": None, "Creator": "ptmscope", "Producer": "ptmscope"},
    }
    metadata = by_suffix[suffix]
    with plt.rc_context(_RC):
        fig.savefig(path, metadata=metadata)
    plt.close(fig)
    return path


def to_svg_text(fig: Any) -> str:
    """The figure as an SVG string (for embedding in HTML reports); closes it."""
    import io

    buf = io.StringIO()
    with plt.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "ptmscope"})
    plt.close(fig)
    text = buf.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text
