"""Transformers adoption: monthly share of new models declaring the library (with 95% band),
newcomers' share and the share among library models (left); descendants per model by group (right)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, not_measurable, style

if TYPE_CHECKING:
    from ..metrics.transformers_adoption import AdoptionResult


def adoption_figure(result: AdoptionResult) -> Any:
    fig, (ax0, ax1) = new_figure(2, width=9.0, height=3.6, gridspec_kw={"width_ratios": [1.6, 1]})
    lib = result.library
    with style():
        c = result.creation
        if c:
            rows = [r for r in c["months"] if r["complete"] and r["models"] >= 10]
            x = np.arange(len(rows))
            share = np.array([r["share"] for r in rows], dtype=float)
            lo = np.array([r["share_ci"][0] for r in rows], dtype=float)
            hi = np.array([r["share_ci"][1] for r in rows], dtype=float)
            ax0.fill_between(x, lo, hi, color=PALETTE[0], alpha=0.2, linewidth=0)
            ax0.plot(x, share, color=PALETTE[0], linewidth=1.6, label=f"new models declaring {lib}")
            lm = np.array([r["share_of_library_models"] or np.nan for r in rows], dtype=float)
            ax0.plot(x, lm, color=PALETTE[3], linewidth=1.0, linestyle="--", label="... of those declaring any library")
            nc = np.array([r["newcomer_share"] if r["newcomer_share"] is not None else np.nan for r in rows])
            ax0.plot(x, nc, color=PALETTE[1], linewidth=1.0, linestyle=":", label="newcomers' first models")
            step = max(1, len(x) // 8)
            ax0.set_xticks(x[::step])
            ax0.set_xticklabels([r["month"] for r in rows][::step], rotation=30, ha="right")
            ax0.set_ylim(0, 1.02)
            ax0.set_ylabel("Share of models created that month")
            ax0.set_title(
                f"Creation: {c['n_models']:,} models\n"
                f"(libraries {c['library_snapshot']}, created {c['created_snapshot']})",
                fontsize=8,
            )
            ax0.legend(frameon=False, loc="lower left", fontsize=7)
            ax0.yaxis.grid(True, linewidth=0.4, alpha=0.6)
        else:
            not_measurable(ax0, f"not measurable:\n{result.creation_missing}")
        r = result.reuse
        if r:
            groups = r["groups"]
            y = np.arange(len(groups))
            vals = [g["descendants_per_model"] or 0.0 for g in groups]
            ax1.barh(y, vals, color=[PALETTE[0], PALETTE[5], "#c9ced6"][: len(groups)])
            for i, g in enumerate(groups):
                ax1.text(
                    vals[i], i, f" {g['models']:,} models, {g['share_reused']:.1%} reused", va="center", fontsize=7
                )
            ax1.set_yticks(y)
            ax1.set_yticklabels([g["group"] for g in groups], fontsize=8)
            ax1.invert_yaxis()
            ax1.set_xlabel("Direct descendants per model")
            ratio = r["comparison"].get("descendants_per_model_ratio")
            ci = r["comparison"].get("descendants_per_model_ratio_ci") or [None, None]
            tag = f"ratio {ratio:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci[0] is not None else "") if ratio else ""
            ax1.set_title(f"Reuse: {r['snapshot_id']}, {r['n_edges']:,} edges\n{tag}", fontsize=8)
            ax1.set_xlim(0, max([*vals, 1e-9]) * 1.9)
        else:
            not_measurable(ax1, f"not measurable:\n{result.reuse_missing}")
        fig.suptitle(f"{lib}: adoption in new models and downstream reuse", fontsize=10)
        fig.tight_layout()
    return fig
