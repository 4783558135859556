"""Pickle-only weights: descendants vs their bases per snapshot (left, with 95% intervals) and the
share of repositories still pickle-only over time in the commit histories (right); the caption
line says it is a proxy and that CVE severity is not measurable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, not_measurable, style

if TYPE_CHECKING:
    from ..metrics.pickle_only import PickleOnlyResult


def pickle_only_figure(result: PickleOnlyResult) -> Any:
    fig, (ax0, ax1) = new_figure(2, width=9.0, height=3.8)
    with style():
        f = result.files
        if f and f["by_snapshot"]:
            blocks = f["by_snapshot"]
            y = np.arange(len(blocks))
            desc = np.array([b["desc_share"] if b["desc_share"] is not None else np.nan for b in blocks])
            base = np.array([b["base_share"] if b["base_share"] is not None else np.nan for b in blocks])
            err = np.array(
                [
                    [
                        d - (b["desc_share_ci"][0] if b["desc_share_ci"][0] is not None else d),
                        (b["desc_share_ci"][1] if b["desc_share_ci"][1] is not None else d) - d,
                    ]
                    for d, b in zip(desc, blocks, strict=True)
                ]
            ).T
            ax0.barh(
                y - 0.2,
                desc,
                height=0.38,
                color=PALETTE[1],
                xerr=err,
                ecolor="#2e4057",
                capsize=2,
                label="descendant models",
            )
            ax0.barh(y + 0.2, base, height=0.38, color=PALETTE[0], label="their bases")
            labels = []
            for b in blocks:
                star = " *" if b["snapshot_id"] == f["snapshot_id"] else ""
                note = "" if b["any_safetensors"] else "; no safetensors yet"
                labels.append(
                    f"{b['snapshot_id']}{star}\n{b['edges']:,} edges, +{b['introduced']}/-{b['removed']}{note}"
                )
            ax0.set_yticks(y)
            ax0.set_yticklabels(labels, fontsize=7)
            ax0.set_xlim(0, 1)
            ax0.set_xlabel("Share of lineage edges whose end is pickle-only")
            ax0.set_title("File lists (* = the snapshot the verdict reads)", fontsize=8)
            ax0.legend(frameon=False, loc="upper right", fontsize=7)
        else:
            not_measurable(ax0, f"file lists not measurable:\n{result.files_missing}")
        c = result.commits
        if c and c["adoption"]:
            rows = c["adoption"]
            x = np.arange(len(rows))
            ax1.plot(x, [r["share_pickle_only"] for r in rows], color=PALETTE[1], linewidth=1.6)
            step = max(1, len(x) // 8)
            ax1.set_xticks(x[::step])
            ax1.set_xticklabels([r["month"] for r in rows][::step], rotation=30, ha="right")
            ax1.set_ylim(0, 1.02)
            ax1.set_ylabel("Share with no safetensors commit yet")
            ax1.set_title(f"Commit histories: {c['repos']:,} repositories ({c['snapshot_id']})", fontsize=8)
            ax1.yaxis.grid(True, linewidth=0.4, alpha=0.6)
        else:
            not_measurable(ax1, f"commit histories not measurable:\n{result.commits_missing}")
        fig.suptitle("Pickle-only weights after forking (proxy for T3.4)", fontsize=10)
        fig.text(0.5, 0.005, result.caption_note, ha="center", va="bottom", fontsize=7, style="italic")
        fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
