"""Authorship: Lorenz curves of popularity over authors (left) and the top groups' share of the
top-K models against their share of all models (right), with 95% intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.authorship import AuthorshipResult


def _err(v: float, ci: list[Any]) -> list[float]:
    lo, hi = ci
    return [v - lo if lo is not None else 0.0, hi - v if hi is not None else 0.0]


def authorship_figure(result: AuthorshipResult) -> Any:
    fig, (ax0, ax1) = new_figure(2, width=8.6, height=3.6)
    with style():
        for i, b in enumerate(result.measures):
            pts = np.array(b["top_curve"], dtype=float)
            lo, hi = b["gini_ci"]
            ci = f" [{lo:.3f}, {hi:.3f}]" if lo is not None else ""
            ax0.plot(
                pts[:, 0],
                pts[:, 1],
                color=PALETTE[i],
                linewidth=1.6,
                label=f"{b['measure']}: {b['n_authors']:,} authors, Gini {b['gini']:.3f}{ci}",
            )
        xs = np.logspace(-4, 0, 50)
        ax0.plot(xs, xs, color="#8d96a3", linewidth=0.8, linestyle="--", label="equal shares")
        ax0.axvline(result.top_share, color="#8d96a3", linewidth=0.6, linestyle=":")
        ax0.set_xscale("log")
        ax0.set_ylim(0, 1.02)
        ax0.set_xlabel("Top x of authors by the measure (log scale)")
        ax0.set_ylabel("Share of the measure they hold")
        ax0.set_title("Lorenz curves, read from the top")
        ax0.legend(frameon=False, loc="lower right", fontsize=7)

        labels, top, top_err, allm = [], [], [], []
        for b in result.measures:
            for r in b["groups"]:
                if r["k"] != b["k"]:
                    continue
                labels.append(f"{r['group']}\n({r['group_authors']:,}), {b['measure']}")
                top.append(r["share_top"])
                top_err.append(_err(r["share_top"], r["share_top_ci"]))
                allm.append(r["share_all"])
        y = np.arange(len(labels))
        err = np.array(top_err, dtype=float).T if top_err else None
        ax1.barh(
            y + 0.2,
            top,
            height=0.38,
            color=PALETTE[1],
            xerr=err,
            ecolor="#2e4057",
            capsize=2,
            label=f"share of the top-{result.top:,} models",
        )
        ax1.barh(y - 0.2, allm, height=0.38, color=PALETTE[5], label="share of all models")
        ax1.set_yticks(y)
        ax1.set_yticklabels(labels, fontsize=7)
        ax1.invert_yaxis()
        ax1.set_xlim(0, 1)
        ax1.axvline(0.5, color="#8d96a3", linewidth=0.8, linestyle="--")
        ax1.set_xlabel("Share owned by the group")
        ax1.set_title("Who owns the popular models")
        ax1.legend(frameon=False, loc="lower right", fontsize=7)
        n = max((b["n_models"] for b in result.measures), default=0)
        fig.suptitle(f"Authorship ({result.snapshot_id}, {n:,} models)", fontsize=10)
        fig.tight_layout()
    return fig
