"""The "Leaderboard" section of docs/ofa.md, generated from the committed reports.

Reads the CSV files that ``nasgym leaderboard report`` wrote into the subfolders of
docs/results/ofa (``b100``, ``b300``, ``lat25``, ``mo``, ``transfer``) and prints the
section as Markdown; ``--write`` replaces the section in docs/ofa.md (everything from
its ``## Leaderboard`` heading on). ``docs/ofa_validation.py`` appends the same
section when it regenerates the page, and ``tests/test_results_ofa.py`` checks that
the committed page matches. No number in the section is typed by hand.

    python docs/results/ofa/summarize.py            # print
    python docs/results/ofa/summarize.py --write    # update docs/ofa.md
    # paired.csv, from the run files (leaderboard directories, not committed):
    python summarize.py --pairs b100=LB1 b300=LB3 lat25=LBL transfer=LBT
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = HERE.parents[1] / "ofa.md"
HEADING = "## Leaderboard"
ORDER = ("random", "rea", "ls", "l2nas", "l2nas-ft", "apex")
NAMES = {
    "random": "random search",
    "rea": "REA",
    "ls": "local search",
    "l2nas": "L2NAS",
    "l2nas-ft": "L2NAS transferred",
    "apex": "Ape-X (trained searcher)",
}
Row = dict[str, str]


def read(path: Path) -> dict[tuple[int, str], Row]:
    """``(checkpoint, agent) -> row`` of a report CSV (one env per folder)."""
    if not path.is_file():
        return {}
    with path.open(newline="") as handle:
        return {
            (int(row["checkpoint"]), row["agent"]): row
            for row in csv.DictReader(handle)
        }


def agents(*tables: dict[tuple[int, str], Row]) -> list[str]:
    """Agents of the tables in :data:`ORDER`, then any others."""
    found = {agent for table in tables for (_, agent) in table}
    return [a for a in ORDER if a in found] + sorted(found - set(ORDER))


def num(row: Row | None, key: str) -> float:
    """A float column (NaN when missing or empty)."""
    if row is None or not row.get(key):
        return math.nan
    return float(row[key])


def iqm(row: Row | None, prefix: str, digits: int = 2) -> str:
    """``IQM [low, high]`` of a column family, ``-`` when missing."""
    value = num(row, f"{prefix}_iqm")
    if math.isnan(value):
        return "-"
    low, high = num(row, f"{prefix}_iqm_ci_low"), num(row, f"{prefix}_iqm_ci_high")
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def mean_se(row: Row | None, prefix: str, digits: int = 3) -> str:
    """``mean ± s.e.`` of a column family, ``-`` when missing."""
    value = num(row, f"{prefix}_mean")
    if math.isnan(value):
        return "-"
    return f"{value:.{digits}f} ± {num(row, f'{prefix}_se'):.{digits}f}"


def seeds(*rows: Row | None) -> str:
    """The run counts of the rows (one number when they agree)."""
    counts = sorted({int(row["n"]) for row in rows if row is not None})
    return "/".join(map(str, counts)) or "0"


def compare(
    a: Row | None,
    b: Row | None,
    prefix: str,
    names: tuple[str, str],
    digits: int = 2,
) -> str:
    """Say which of two agents is higher and whether the difference is clear.

    With a bootstrap CI of the IQM (``<prefix>_iqm_ci_low``/``_high``) the IQMs are
    compared and "clear" means the 95% CIs do not overlap; without one (the HV
    columns) the means are compared against their combined standard error.
    """
    if a is None or b is None:
        return "not both measured"
    ranked = sorted(
        [(names[0], a), (names[1], b)], key=lambda item: -key(item[1], prefix)
    )
    (hi, hi_row), (lo, lo_row) = ranked
    vh, vl = key(hi_row, prefix), key(lo_row, prefix)
    if math.isnan(num(hi_row, f"{prefix}_iqm_ci_low")):
        se = math.hypot(num(hi_row, f"{prefix}_se"), num(lo_row, f"{prefix}_se"))
        z = (vh - vl) / se if se > 0 else math.inf
        what = "mean"
        verdict = f"{z:.1f} combined standard errors: " + (
            "not a clear difference" if z < 2 else "a clear difference"
        )
    else:
        what = "IQM"
        overlap = num(hi_row, f"{prefix}_iqm_ci_low") <= num(
            lo_row, f"{prefix}_iqm_ci_high"
        )
        verdict = (
            "the 95% CIs overlap: not a clear difference"
            if overlap
            else "the 95% CIs do not overlap"
        )
    return (
        f"{what} {hi} {vh:.{digits}f} vs {lo} {vl:.{digits}f} "
        f"(difference {vh - vl:.{digits}f}; {verdict})"
    )


def key(row: Row, prefix: str) -> float:
    """The value :func:`compare` ranks by: the IQM when it has a CI, else the mean."""
    if math.isnan(num(row, f"{prefix}_iqm_ci_low")):
        return num(row, f"{prefix}_mean")
    return num(row, f"{prefix}_iqm")


def unconstrained(
    b100: dict[tuple[int, str], Row], b300: dict[tuple[int, str], Row]
) -> list[str]:
    """Budget-100 and budget-300 table of the incumbent's predicted top-1."""
    lines = [
        "### Unconstrained: predicted top-1 (%) of the incumbent",
        "",
        'IQM [95% CI] over seeds. "Budget 100" and "budget 300" are separate '
        "leaderboards (a learning agent told 100 queries explores differently); the "
        "middle column is the budget-300 runs after their first 100 queries.",
        "",
        "| agent | runs | budget 100 | budget 300, after 100 queries | budget 300 |",
        "|---|---:|---:|---:|---:|",
    ]
    for agent in agents(b100, b300):
        r100, m100, r300 = (
            b100.get((100, agent)),
            b300.get((100, agent)),
            b300.get((300, agent)),
        )
        lines.append(
            f"| {NAMES.get(agent, agent)} | {seeds(r100, r300)} | "
            f"{iqm(r100, 'test')} | {iqm(m100, 'test')} | {iqm(r300, 'test')} |"
        )
    optimum = next((num(r, "optimum") for r in b300.values()), math.nan)
    lines += [
        "",
        f"The reference optimum (what regret is measured against) is {optimum:.2f} %.",
    ]
    return lines


def constrained(lat: dict[tuple[int, str], Row], budget: int) -> list[str]:
    """Feasible top-1 and violation share of the latency-constrained runs."""
    lines = [
        "### Note10 latency <= 25 ms",
        "",
        "Env options `objectives=valid_accuracy,latency mo_reward=constrained "
        "cost_threshold=25.0`: the reward is the normalised predicted top-1 when the "
        "Note10 table latency is at most 25 ms, else 0. REA, local search and L2NAS "
        "rank by that reward (`fitness=reward`); random search ignores rewards. The "
        "feasible top-1 is the predicted top-1 of the best architecture within the "
        "threshold; the violation share is the fraction of a run's queries above it."
        + (
            " Ape-X here is a searcher trained on this constrained env's reward."
            if any(a == "apex" for _, a in lat)
            else ""
        ),
        "",
        "| agent | runs | feasible top-1, 100 queries | feasible top-1, "
        f"{budget} queries | violation share, {budget} queries |",
        "|---|---:|---:|---:|---:|",
    ]
    for agent in agents(lat):
        r100, rend = lat.get((100, agent)), lat.get((budget, agent))
        lines.append(
            f"| {NAMES.get(agent, agent)} | {seeds(rend)} | "
            f"{iqm(r100, 'feasible_test')} | {iqm(rend, 'feasible_test')} | "
            f"{mean_se(rend, 'violation_share')} |"
        )
    return lines


def two_objective(mo: dict[tuple[int, str], Row], budget: int) -> list[str]:
    """Hypervolume table of the accuracy + latency runs."""
    any_row = next(iter(mo.values()), None)
    ref = any_row["reference_point"] if any_row else "-"
    lines = [
        "### Two objectives: predicted top-1 and Note10 latency",
        "",
        "Env options `objectives=valid_accuracy,latency mo_reward=weighted` (MONAS's "
        "weighted reward, accuracy weight 0.5). REA, local search and L2NAS rank by "
        "that reward. Hypervolume (HV) of all queried architectures, IQM [95% CI], "
        f"in the leaderboard's normalised units (reference point {ref}); higher is "
        "better. The weighted reward pulls a searcher towards one region of the "
        "front, while random search spreads its queries over the whole latency "
        "range, so HV and the weighted goal can rank agents differently."
        + (
            " Ape-X here is a searcher trained on this env's weighted reward."
            if any(a == "apex" for _, a in mo)
            else ""
        ),
        "",
        f"| agent | runs | HV, 100 queries | HV, {budget} queries |",
        "|---|---:|---:|---:|",
    ]
    for agent in agents(mo):
        r100, rend = mo.get((100, agent)), mo.get((budget, agent))
        lines.append(
            f"| {NAMES.get(agent, agent)} | {seeds(rend)} | {iqm(r100, 'hv', 3)} | "
            f"{iqm(rend, 'hv', 3)} |"
        )
    return lines


def transfer(tr: dict[tuple[int, str], Row]) -> list[str]:
    """Feasible top-1 of the transfer runs at their checkpoints."""
    points = sorted({q for q, _ in tr})
    lines = [
        "### L2NAS transfer: unconstrained search to latency <= 25 ms",
        "",
        "The policy of one unconstrained 300-query L2NAS search (seed 0) starts a "
        "constrained search (`init_from`, `fitness=reward`); L2NAS from scratch, REA "
        "and random search on the same constrained env and budget. Feasible "
        "predicted top-1, IQM [95% CI].",
        "",
        "| agent | runs | "
        + " | ".join(f"{q} queries" for q in points)
        + f" | violation share, {points[-1] if points else '-'} queries |",
        "|---|---:|" + "---:|" * (len(points) + 1),
    ]
    for agent in agents(tr):
        rows = [tr.get((q, agent)) for q in points]
        lines.append(
            f"| {NAMES.get(agent, agent)} | {seeds(rows[-1])} | "
            + " | ".join(iqm(r, "feasible_test") for r in rows)
            + f" | {mean_se(rows[-1] if rows else None, 'violation_share')} |"
        )
    return lines


def findings(
    b300: dict[tuple[int, str], Row],
    lat: dict[tuple[int, str], Row],
    mo: dict[tuple[int, str], Row],
    tr: dict[tuple[int, str], Row],
) -> list[str]:
    """Generated comparisons: L2NAS against REA, transfer against scratch."""
    end = max((q for q, _ in b300), default=300)
    lend = max((q for q, _ in lat), default=300)
    mend = max((q for q, _ in mo), default=300)
    tend = max((q for q, _ in tr), default=100)
    lines = [
        "### Comparisons: L2NAS against REA, transfer, Ape-X",
        "",
        f"* Unconstrained, {end} queries (predicted top-1): "
        + compare(
            b300.get((end, "l2nas")), b300.get((end, "rea")), "test", ("L2NAS", "REA")
        )
        + ".",
        f"* Latency <= 25 ms, {lend} queries (feasible top-1): "
        + compare(
            lat.get((lend, "l2nas")),
            lat.get((lend, "rea")),
            "feasible_test",
            ("L2NAS", "REA"),
        )
        + ".",
        f"* Two objectives, {mend} queries (hypervolume): "
        + compare(
            mo.get((mend, "l2nas")), mo.get((mend, "rea")), "hv", ("L2NAS", "REA"), 3
        )
        + ".",
        f"* Transfer, {tend} queries (feasible top-1): "
        + compare(
            tr.get((tend, "l2nas-ft")),
            tr.get((tend, "l2nas")),
            "feasible_test",
            ("transferred", "from scratch"),
        )
        + ".",
    ]
    if "apex" in {a for _, a in b300}:
        lines.append(
            f"* Ape-X (trained searcher), {end} queries: "
            + compare(
                b300.get((end, "apex")),
                b300.get((end, "random")),
                "test",
                ("Ape-X", "random"),
            )
            + "."
        )
    return lines


#: Paired comparisons ``(folder, checkpoint, agent a, agent b, metric)`` that
#: ``--pairs`` computes from the run files (common random numbers: seed i of every
#: agent starts from the same env seed).
PAIRS = (
    ("b100", 100, "l2nas", "rea", "test"),
    ("b300", 300, "l2nas", "rea", "test"),
    ("lat25", 300, "l2nas", "rea", "feasible_test"),
    ("transfer", 100, "l2nas-ft", "l2nas", "feasible_test"),
)
PAIRED = HERE / "paired.csv"


def run_value(records: list[dict[str, object]], query: int, metric: str) -> float:
    """The incumbent's test value after ``query`` queries.

    For ``feasible_test`` only queries within every threshold count (the best
    validation accuracy among them, as the report's feasible accuracy).
    """
    seen = [r for r in records if int(str(r["query"])) <= query]
    if metric == "feasible_test":
        seen = [r for r in seen if not r.get("constraint_violated")]
        if not seen:
            return math.nan
    best = max(seen, key=lambda r: float(str(r["valid"])))
    return float(str(best["test"]))


def compute_pairs(dirs: dict[str, Path]) -> list[dict[str, str]]:
    """Per-seed differences a - b for :data:`PAIRS` from leaderboard directories."""
    from nasgym.leaderboard.store import find_run_files, read_run

    rows = []
    for folder, query, a, b, metric in PAIRS:
        if folder not in dirs:
            continue
        by_agent: dict[str, dict[int, float]] = {a: {}, b: {}}
        for path in find_run_files(dirs[folder]):
            if path.parent.name in by_agent:
                run = read_run(path)
                seed = int(run.header["seed"])
                by_agent[path.parent.name][seed] = run_value(run.records, query, metric)
        seeds_ = sorted(set(by_agent[a]) & set(by_agent[b]))
        diff = [by_agent[a][i] - by_agent[b][i] for i in seeds_]
        diff = [d for d in diff if not math.isnan(d)]
        n = len(diff)
        mean = sum(diff) / n
        var = sum((d - mean) ** 2 for d in diff) / (n - 1)
        rows.append(
            {
                "folder": folder,
                "checkpoint": str(query),
                "a": a,
                "b": b,
                "metric": metric,
                "n": str(n),
                "diff_mean": repr(mean),
                "diff_se": repr(math.sqrt(var / n)),
                "a_better": str(sum(d > 0 for d in diff)),
                "b_better": str(sum(d < 0 for d in diff)),
            }
        )
    return rows


def paired_lines(path: Path = PAIRED) -> list[str]:
    """Bullets of the paired differences (empty without ``paired.csv``)."""
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = [
        "",
        "Paired by seed (every agent's seed i starts from the same env seed), "
        "difference of the incumbent's value, mean ± s.e. over seeds "
        "(`summarize.py --pairs`, `paired.csv`):",
        "",
    ]
    for row in rows:
        mean, se = float(row["diff_mean"]), float(row["diff_se"])
        z = abs(mean) / se if se > 0 else math.inf
        a, b = NAMES.get(row["a"], row["a"]), NAMES.get(row["b"], row["b"])
        lines.append(
            f"* {row['folder']}, {row['checkpoint']} queries, {a} minus {b}: "
            f"{mean:+.2f} ± {se:.2f} ({z:.1f} s.e.; {a} better in {row['a_better']} "
            f"of {row['n']} seeds, {b} in {row['b_better']})."
        )
    return lines


def render(root: Path = HERE) -> str:
    """The whole section, from ``HEADING`` on, ending in a newline."""
    b100 = read(root / "b100" / "leaderboard.csv")
    b300 = read(root / "b300" / "leaderboard.csv")
    lat = read(root / "lat25" / "multi-objective.csv")
    mo = read(root / "mo" / "multi-objective.csv")
    tr = read(root / "transfer" / "multi-objective.csv")
    lat_end = max((q for q, _ in lat), default=300)
    mo_end = max((q for q, _ in mo), default=300)
    parts = [
        HEADING,
        "",
        "Generated by `docs/results/ofa/summarize.py` from the reports in "
        "[results/ofa](results/ofa/README.md) (`nasgym leaderboard report`; commands "
        "there). 30 seeds per agent unless the runs column says otherwise; every "
        "search sees the predicted top-1 as its validation accuracy, so test and "
        "validation are the same surrogate value.",
        "",
        *unconstrained(b100, b300),
        "",
        *constrained(lat, lat_end),
        "",
        *two_objective(mo, mo_end),
        "",
        *transfer(tr),
        "",
        *findings(b300, lat, mo, tr),
        *paired_lines(root / "paired.csv"),
    ]
    return "\n".join(parts) + "\n"


def splice(page: str, section: str) -> str:
    """``page`` with everything from :data:`HEADING` on replaced by ``section``."""
    head = page.split("\n" + HEADING + "\n", 1)[0].rstrip("\n")
    return head + "\n\n" + section


def main() -> None:
    """Print the section, or write it into docs/ofa.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update docs/ofa.md")
    parser.add_argument(
        "--pairs",
        nargs="+",
        default=None,
        metavar="FOLDER=DIR",
        help="compute paired.csv from leaderboard directories, e.g. b300=lb-b300",
    )
    args = parser.parse_args()
    if args.pairs:
        dirs = dict(item.split("=", 1) for item in args.pairs)
        rows = compute_pairs({k: Path(v) for k, v in dirs.items()})
        with PAIRED.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {PAIRED}")
    section = render()
    if args.write:
        PAGE.write_text(splice(PAGE.read_text(), section))
        print(f"wrote {PAGE}")
    else:
        print(section, end="")


if __name__ == "__main__":
    main()
