"""T3.7: kinds of maintenance per year and high- vs low-maintenance models, on hand-built stores."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.stats import mannwhitneyu
from store_tables import add_tables

from ptmscope.claims import evaluate, load_rules
from ptmscope.engine import connect
from ptmscope.metrics._commits import WEIGHT_FILE_ONLY_MARK, name_size_class
from ptmscope.store import Store

# messages whose category is known by reading them (the classifier's own tests check the rules)
MESSAGES = {
    "perfective": "Training in progress, step 500",
    "corrective": "Fix tokenizer config",
    "adaptive": "Adding `safetensors` variant of this model",
    "other": "initial commit",
}
LOG_DATE = dt.date(2024, 9, 25)
SIZES = ("small", "base", "large", "xl")
CARD_FULL = (
    "# Model\n\nThis model is a small test model that classifies short English sentences well.\n\n"
    "## Limitations\n\nIt is biased and fails on long inputs.\n\n"
    "## How to use\n\n```python\nfrom transformers import pipeline\npipeline('text-classification')\n```\n\n"
    "## Training\n\nTrained on a public data set for three epochs.\n\n"
    "## Evaluation\n\nAccuracy 0.91 on the test split.\n"
)
CARD_THIN = "# Model\n\nA model.\n"


def _history(n_repos: int = 24):
    """Per repository: id, list of (date, category); repository k has k % 6 + 1 commits from a start date."""
    repos = []
    kinds = ["perfective", "adaptive", "perfective", "corrective", "perfective"]
    for k in range(n_repos):
        pid = "google-bert/bert-base-uncased" if k == 0 else f"org{k % 3}/model-{SIZES[k % 4]}-{k}"
        start = dt.datetime(2020 + k % 4, 1 + k % 12, 3, tzinfo=dt.UTC)
        commits = [(start, "other")]
        for j in range(k % 6):
            commits.append((start + dt.timedelta(days=40 * (j + 1)), kinds[(k + j) % len(kinds)]))
        repos.append((pid, commits))
    return repos


def _build(path, *, weight_only: bool = True, with_parameters: bool = True):
    repos = _history()
    ids = [pid for pid, _ in repos]
    rows: dict[str, list] = {"package_id": [], "commit_id": [], "committed_at": [], "message": []}
    for pid, commits in repos:
        for j, (when, kind) in enumerate(commits):
            rows["package_id"].append(pid)
            rows["commit_id"].append(f"{abs(hash((pid, j))) % 16**12:012x}")
            rows["committed_at"].append(when)
            rows["message"].append(MESSAGES[kind])
    hub_ids = ["bert-base-uncased" if i == 0 else pid for i, pid in enumerate(ids)]  # the 2022 name of repo 0
    downloads = [10 * (i % 7) + len(c) ** 2 for i, (_, c) in enumerate(repos)]
    with Store(path) as s:
        add_tables(
            s,
            LOG_DATE.isoformat(),
            {"packages": {"package_id": ids}, "commits": rows},
            notes=("covers " + WEIGHT_FILE_ONLY_MARK) if weight_only else None,
            name="log",
        )
        add_tables(
            s,
            "2022-10-01",
            {
                "packages": {
                    "package_id": hub_ids,
                    "downloads": downloads,
                    "task": ["fill-mask"] * len(ids),
                    "license": ["mit" if i % 2 else None for i in range(len(ids))],
                    "model_type": ["bert"] * len(ids),
                    "tags": [["dataset:glue"] if i % 4 else [] for i in range(len(ids))],
                    "parameters": [10**6 * (i + 1) for i in range(len(ids))] if with_parameters else [None] * len(ids),
                },
                "cards": {"package_id": hub_ids, "text": [CARD_FULL if i % 3 else CARD_THIN for i in range(len(ids))]},
            },
            name="hub",
        )
        from ptmscope.pipeline import score_cards

        score_cards(s)
    return repos, dict(zip(ids, downloads, strict=True))


def _split(repos):
    """High-maintenance repositories by the stated definition, computed here."""
    end = dt.datetime.combine(LOG_DATE, dt.time(23, 59, 59), tzinfo=dt.UTC)
    rate = {pid: len(c) / max(1.0, (end - c[0][0]).total_seconds() / 86400 / 30.4375) for pid, c in repos}
    median = float(np.median(list(rate.values())))
    return {pid for pid, r in rate.items() if r > median}, median


def _cliff(a, b) -> float:
    return sum((x > y) - (x < y) for x in a for y in b) / (len(a) * len(b))


def test_kinds_per_year_split_and_comparisons(store_path):
    from ptmscope.metrics.maintenance import maintenance

    repos, downloads = _build(store_path)
    r = maintenance(connect(store_path), min_group=3, n_boot=200)
    kinds = [k for _, c in repos for _, k in c]
    assert r.n_repos == 24 and r.n_commits == len(kinds)
    assert r.counts == {k: kinds.count(k) for k in MESSAGES}
    maint = [k for k in kinds if k != "other"]
    assert r.n_maintenance_commits == len(maint)
    assert r.perfective_share_of_maintenance == pytest.approx(maint.count("perfective") / len(maint))
    lo, hi = r.perfective_share_ci
    assert lo <= r.perfective_share_of_maintenance <= hi
    for row in r.years:
        in_year = [k for _, c in repos for when, k in c if when.year == row["year"]]
        assert row["commits"] == len(in_year)
        assert row["perfective_share"] == pytest.approx(in_year.count("perfective") / len(in_year))
    later = {pid for pid, c in repos if any(k == "perfective" for _, k in c[1:])}
    assert r.repos_with_later_perfective == len(later)
    high, median = _split(repos)
    assert r.split["median_rate"] == pytest.approx(median)
    assert (r.split["n_high"], r.split["n_low"]) == (len(high), 24 - len(high))
    comps = {c["measure"]: c for c in r.comparisons}
    d = comps["downloads"]  # repo 0 joined through its rename (bert-base-uncased -> google-bert/...)
    a = [downloads[p] for p in downloads if p in high]
    b = [downloads[p] for p in downloads if p not in high]
    assert (d["n_high"], d["n_low"]) == (len(a), len(b))
    assert d["p"] == pytest.approx(mannwhitneyu(a, b, alternative="greater").pvalue)
    assert d["cliffs_delta"] == pytest.approx(_cliff(a, b))
    assert d["median_high"] == pytest.approx(np.median(a))
    size = comps["size"]
    assert size["definition"] == "parameter count" and not size.get("proxy")
    params = {pid: 10**6 * (i + 1) for i, (pid, _) in enumerate(repos)}
    assert size["cliffs_delta"] == pytest.approx(
        _cliff([v for p, v in params.items() if p in high], [v for p, v in params.items() if p not in high])
    )
    assert (
        comps["documentation"]["measured"] and comps["documentation"]["n_high"] + comps["documentation"]["n_low"] == 24
    )
    holm = sorted(c["p_holm"] for c in r.comparisons)
    assert holm[0] == pytest.approx(min(1.0, 3 * min(c["p"] for c in r.comparisons)))
    assert r.weight_file_only and any("weight file" in n for n in r.notes)


def test_without_sizes_the_name_proxy_is_labelled(store_path):
    from ptmscope.metrics.maintenance import maintenance

    repos, _ = _build(store_path, weight_only=False, with_parameters=False)
    r = maintenance(connect(store_path), min_group=3, n_boot=0)
    size = next(c for c in r.comparisons if c["measure"] == "size")
    assert size["proxy"] is True and size["definition"].startswith("PROXY")
    high, _ = _split(repos)
    cls = {pid: name_size_class(pid) for pid, _ in repos}
    a = [v for p, v in cls.items() if p in high and v is not None]
    b = [v for p, v in cls.items() if p not in high and v is not None]
    assert size["cliffs_delta"] == pytest.approx(_cliff(a, b))
    assert not r.weight_file_only and not any("weight file" in n for n in r.notes)


def test_summary_and_rule(store_path):
    from ptmscope.metrics import registry

    _build(store_path)
    res = registry.get("maintenance").run(connect(store_path), {"min_group": 3, "n_boot": 100})
    s = res.data["summary"]
    assert s["n_parts"] == 4 and set(s["parts"]) == {"perfective", "downloads", "size", "documentation"}
    assert s["n_parts_supported"] == sum(v == "supported" for v in s["parts"].values())
    rule = next(x for x in load_rules() if x.id == "ext.maintenance")
    v = evaluate(rule, res.data)
    expected = (
        "supported" if s["n_parts_supported"] == 4 else "not supported" if s["n_parts_refuted"] else "inconclusive"
    )
    assert v.verdict == expected


def test_no_commits_is_not_measurable(store_path):
    from ptmscope.errors import NotMeasurable
    from ptmscope.metrics.maintenance import maintenance

    with Store(store_path) as s:
        add_tables(s, "2022-10-01", {"packages": {"package_id": ["a/b"], "downloads": [3]}})
    with pytest.raises(NotMeasurable, match="no complete hf snapshot has rows in table 'commits'"):
        maintenance(connect(store_path))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("google-bert/bert-base-uncased", 2),
        ("t5-small", 1),
        ("org/bert-large-cased-finetuned-squad", 3),
        ("EleutherAI/gpt-neo-1.3B", 4),
        ("EleutherAI/pythia-160m", 2),
        ("x/tiny-random-bert", 1),
        ("google/t5-v1_1-xl", 4),
        ("x/opus-mt-en-de", None),
        ("x/model-2b-but-base", 4),  # a stated count wins over a size word
        ("x/m50m", None),  # digits glued to letters are not a count
    ],
)
def test_name_size_class(name, expected):
    assert name_size_class(name) == expected


def test_figure(store_path):
    from ptmscope.figures.maintenance import maintenance_figure
    from ptmscope.metrics.maintenance import maintenance

    _build(store_path)
    fig = maintenance_figure(maintenance(connect(store_path), min_group=3, n_boot=50))
    ax_y, ax_c = fig.axes[:2]
    assert [t.get_text() for t in ax_y.get_xticklabels()] == ["2020", "2021", "2022", "2023", "2024"]
    assert "weight-file commits only" in ax_y.get_title()
    assert [t.get_text() for t in ax_c.get_yticklabels()] == ["downloads", "size", "documentation"]


def test_cli_json_and_plot(cli, store_path, tmp_path):
    import json

    repos, _ = _build(store_path)
    plot = tmp_path / "m.svg"
    code, out, err = cli(
        "metric", "maintenance", "--min-group", "3", "--n-boot", "20", "--json", "--plot", plot, "--store", store_path
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["n_repos"] == len(repos) and d["summary"]["n_parts"] == 4
    assert plot.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    code, out, err = cli("metric", "maintenance", "--min-group", "3", "--n-boot", "20", "--store", store_path)
    assert code == 0 and "perfective share of maintenance" in out and "weight-file commits only" in out
