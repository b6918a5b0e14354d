"""Turn the benchmark's JSON files into ``benchmarks/results.md``.

    .venv/bin/python benchmarks/report.py [results_fits.json results_pipeline.json ...]

Every figure in the Markdown comes from the JSON written by ``benchmarks/run.py`` on the
machine it describes; the targets are those of issues 11 and 20.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT = sorted(HERE.glob("results_*.json"))
#: the measurements before issue 20's scale work ("today" in its targets), kept as they were written
BASELINE = sorted((HERE / "baseline").glob("results_*.json"))
#: issue 20: nothing slower than the baseline at 10^3 to 10^5; the allowance for the load of a shared
#: machine (repeated whole runs of the same input spread by about this much)
NOT_SLOWER = (1_000, 10_000, 100_000)
ALLOWANCE = 1.10
MIB_PER_GB = 1e9 / 2**20
WHOLE = "compendium run (whole)"
#: issue 11's targets for the default cohort's reruns (seconds, wall clock)
RERUN_TARGETS = {"cold full run": 15, "warm rerun, nothing changed": 3}  # cold: issue 20 (issue 11 had 20 s)

# issue 11's targets for the pipeline: patients -> seconds (peak memory only stated at 1e6)
PIPELINE_TARGETS = {10_000: 60, 100_000: 180, 1_000_000: 300}  # 10^6: issue 20 (issue 11 had 20 min)
#: issue 20: all the processes of a whole run at 10^6 together (issue 11 had 8 GB)
PEAK_GB = 4


def _fmt(x, digits=2):
    return "–" if x is None or pd.isna(x) else f"{x:.{digits}f}"


def _met(ok) -> str:
    return "**met**" if ok else "**not met**"


def machine_section(runs: list[dict]) -> list[str]:
    m = runs[0]["machine_before"]
    lines = ["## Machine", "",
             f"- {m['nproc']} cores (nproc), {m['cpu'] or 'CPU model not reported'}, {m['memory']} memory",
             f"- Python {m['python']}; {m['r']} (R and survival version)",
             "- Load (`uptime`) at the start and end of each part:"]
    for run in runs:
        lines.append(f"  - `{run['machine_before']['uptime']}` … `{run['machine_after']['uptime']}`")
    loads = [float(re.search(r"load average: ([\d.]+)", run[k]["uptime"]).group(1))
             for run in runs for k in ("machine_before", "machine_after")]
    lines += ["", f"The 1-minute load average ranged from {min(loads):.1f} to {max(loads):.1f} on "
              f"{m['nproc']} cores"
              + (": other work shared the machine, so absolute times are longer than an idle machine "
                 "gives; the Python/R ratios are fairer, since the two ran alternately under the same load."
                 if max(loads) > m["nproc"] + 0.5 else
                 ": nothing else ran; the load is the benchmark's own processes (a whole run executes two "
                 "notebooks at once)."), ""]
    return lines


def fits_section(fits: list[dict]) -> tuple[list[str], list[str]]:
    if not fits:
        return ["## Survival fits against R", "", "Not measured in this run.", ""], []
    df = pd.DataFrame(fits)
    df = df[df["ok"]]
    if "process_cpu_s" not in df:
        df["process_cpu_s"] = float("nan")
    med = df.groupby(["n", "what", "tool"])[["fit_s", "process_s", "process_cpu_s", "peak_mib"]].median().unstack("tool")
    values = df.groupby(["n", "what", "tool"])["value"].first().unstack("tool")
    names = {"cox": "Cox fit (`coxph`, Efron)", "zph": "`cox.zph` (km transform)", "km": "Kaplan-Meier median"}
    lines = ["## Survival fits against R", "",
             "Each cell: median over repeats of a separate process (Python: `compendium.stats.survival`; R: "
             "`Rscript` with survival) on the same CSV file; *fit* is the time of the computation alone "
             "(for `cox.zph`, after the fit), *process* the whole process including start-up and "
             "reading the file. Ratio = Python / R (below 1: Python faster). Data: "
             "`benchmarks/run.py:fit_data` (a continuous, a 0/1 and a 3-level covariate; times in whole "
             "days / 30.4375, so ties occur).", "",
             "| rows | what | Python fit s | R fit s | ratio (fit) | Python process s (CPU s) | "
             "R process s (CPU s) | ratio (process) | peak MiB Python / R | same answer |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    targets = []
    for (n, what), row in med.iterrows():
        py, r = row[("fit_s", "python")], row[("fit_s", "R")]
        pp, rp = row[("process_s", "python")], row[("process_s", "R")]
        pc, rc = row[("process_cpu_s", "python")], row[("process_cpu_s", "R")]
        v = values.loc[(n, what)]
        same = abs(v["python"] - v["R"]) <= 1e-6 * max(1.0, abs(v["R"]))
        lines.append(f"| {n:,} | {names[what]} | {_fmt(py, 3)} | {_fmt(r, 3)} | {_fmt(py / r)} | {_fmt(pp, 1)} ({_fmt(pc, 1)}) | "
                     f"{_fmt(rp, 1)} ({_fmt(rc, 1)}) | {_fmt(pp / rp)} | "
                     f"{_fmt(row[('peak_mib', 'python')], 0)} / {_fmt(row[('peak_mib', 'R')], 0)} | {'yes' if same else f'no ({v.python:.6g} vs {v.R:.6g})'} |")
        if n >= 100_000:
            targets.append(f"| {names[what]} at {n:,} rows: ratio ≤ 1.0 | {_fmt(py / r)} (fit), "
                           f"{_fmt(pp / rp)} (process) | {_met(py / r <= 1.0)} |")
    lines.append("")
    return lines, targets


def pipeline_section(rows: list[dict]) -> tuple[list[str], list[str]]:
    if not rows:
        return ["## Pipeline at growing N", "", "Not measured in this run.", ""], \
            [f"| pipeline at {n:,} patients under {limit // 60} min" + (f" with peak < {PEAK_GB} GB" if n == 1_000_000 else "")
             + " | not run | **not measured** |" for n, limit in PIPELINE_TARGETS.items()]
    df = pd.DataFrame(rows).drop_duplicates(["n", "step"], keep="last")
    if "cpu_s" not in df:
        df["cpu_s"] = float("nan")
    lines = ["## Pipeline at growing N", "",
             f"Cohorts: {df['cohort'].iloc[0]} (seed 1). Each notebook in its own process, executed as "
             "`python -m compendium run` executes it (papermill, the same kernel), one after another, but each "
             "in a freshly started kernel (start-up and imports included: about 3 s of CPU per notebook); "
             "notebook 00 documents the default synthetic cohort and does not run on other input. Peak memory "
             "is the largest resident set of any one process of the tree (the kernel included), from "
             "`/usr/bin/time -v`. *Sum* is the notebooks' total; *whole run* is "
             "`python -m compendium run --data FILE --out DIR --no-progress` end to end (validation, two "
             "notebooks at a time, kernels forked from the warm process), the figure the targets are judged on.",
             ""]
    sizes = sorted(df["n"].unique())
    steps = [s for s in dict.fromkeys(df["step"]) if s != WHOLE]
    lines += ["| notebook | " + " | ".join(f"{n:,}: wall s / CPU s / MiB" for n in sizes) + " |",
              "|---|" + "---:|" * len(sizes)]
    for step in steps:
        cells = []
        for n in sizes:
            hit = df[(df["n"] == n) & (df["step"] == step)]
            if hit.empty:
                cells.append("–")
            else:
                r = hit.iloc[0]
                cells.append(f"{_fmt(r.wall_s, 1)} / {_fmt(r.cpu_s, 1)} / {_fmt(r.peak_mib, 0)}"
                             + ("" if r.ok else " FAILED"))
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    per_nb = df[df["step"] != WHOLE]
    sums = per_nb.groupby("n").agg(total=("wall_s", "sum"), cpu=("cpu_s", "sum"), peak=("peak_mib", "max"),
                                   ok=("ok", "all"), done=("step", "nunique"))
    # a size whose run was cut short lacks notebooks: it is incomplete, never "met"
    sums["ok"] = sums["ok"] & (sums["done"] == per_nb["step"].nunique())
    lines.append("| **sum of notebooks** | " + " | ".join(
        f"**{_fmt(sums.loc[n, 'total'], 1)}** / {_fmt(sums.loc[n, 'cpu'], 1)} / {_fmt(sums.loc[n, 'peak'], 0)}"
        if n in sums.index else "–" for n in sizes) + " |")
    cells = []
    for n in sizes:
        hit = df[(df["n"] == n) & (df["step"] == WHOLE)]
        together = hit.iloc[0].get("tree_peak_mib") if not hit.empty else None
        cells.append("–" if hit.empty else f"**{_fmt(hit.iloc[0].wall_s, 1)}** / {_fmt(hit.iloc[0].cpu_s, 1)} / "
                     f"{_fmt(hit.iloc[0].peak_mib, 0)}"
                     + (f" (all processes together {_fmt(together, 0)})" if together and not pd.isna(together) else "")
                     + ("" if hit.iloc[0].ok else " FAILED"))
    lines.append(f"| **{WHOLE}**: 2 notebooks at a time | " + " | ".join(cells) + " |")
    lines.append("")
    targets = []
    for n, limit in PIPELINE_TARGETS.items():
        whole = df[(df["n"] == n) & (df["step"] == WHOLE)]
        if n in sums.index:
            t = whole.iloc[0].wall_s if not whole.empty else sums.loc[n, "total"]
            how = "whole run" if not whole.empty else "sum of notebooks, one at a time"
            ok = bool(sums.loc[n, "ok"]) and t <= limit and (whole.empty or bool(whole.iloc[0].ok))
            mem = ""
            if n == 1_000_000:
                together = whole.iloc[0].get("tree_peak_mib") if not whole.empty else None
                peak = max(sums.loc[n, "peak"], together if together and not pd.isna(together) else 0)
                ok = ok and peak <= PEAK_GB * MIB_PER_GB
                mem = (f", peak {peak / MIB_PER_GB:.1f} GB (" + ("all the run's processes together, sampled"
                       if peak != sums.loc[n, "peak"] else "largest single process") + ")")
            done = int(sums.loc[n, "done"])
            partial = "" if done == per_nb["step"].nunique() else f" — incomplete: only {done} notebooks measured"
            targets.append(f"| pipeline at {n:,} patients under {limit // 60} min"
                           + (f" with peak < {PEAK_GB} GB" if n == 1_000_000 else "")
                           + f" | {t:.0f} s wall ({how}); {sums.loc[n, 'cpu']:.0f} s CPU over the notebooks{mem}"
                           + f"{partial} | {_met(ok)} on wall clock |")
        else:
            targets.append(f"| pipeline at {n:,} patients under {limit // 60} min"
                           + (f" with peak < {PEAK_GB} GB" if n == 1_000_000 else "") + " | not run | **not measured** |")
    return lines, targets


def not_slower(rows: list[dict], baseline: list[dict]) -> list[str]:
    """Issue 20: the whole run at 10^3-10^5 no slower than the baseline's."""
    def whole(rs):
        df = pd.DataFrame(rs)
        if df.empty:
            return {}
        df = df[df["step"] == WHOLE].drop_duplicates("n", keep="last")
        return {int(r.n): r for r in df.itertuples()}
    now, then = whole(rows), whole(baseline)
    out = []
    for n in NOT_SLOWER:
        if n not in then:
            continue
        if n not in now:
            out.append(f"| whole run at {n:,} patients no slower than before issue 20 ({then[n].wall_s:.1f} s) | "
                       "not run | **not measured** |")
            continue
        ratio = now[n].wall_s / then[n].wall_s
        out.append(f"| whole run at {n:,} patients no slower than before issue 20 ({then[n].wall_s:.1f} s; "
                   f"allowance ×{ALLOWANCE:.2f} for load) | {now[n].wall_s:.1f} s, ×{ratio:.2f} | "
                   f"{_met(bool(now[n].ok) and ratio <= ALLOWANCE)} |")
    return out


def peers_section(rows: list[dict]) -> list[str]:
    if not rows:
        return ["## Peers side by side", "", "Not measured in this run (`benchmarks/run.py --peers N ...`).", ""]
    df = pd.DataFrame(rows)
    df = df[df["ok"]]
    lines = ["## Peers side by side", "",
             "Cox fits (age, a 0/1 covariate and a 3-level factor; `benchmarks/run.py:fit_data`) and the "
             "Kaplan-Meier median, each tool in its own process on the same CSV file, the order rotated from "
             "repeat to repeat. *Fit*: the computation alone, after imports and reading; *process*: the whole "
             "process. Each cell is the median over repeats. *R's answer*: every coefficient (or the median) "
             "within 10⁻⁶ × max(1, |R's value|) of R's `coxph`/`survfit` on the same file; otherwise the "
             "largest difference.", "",
             "| rows | what | tool | ties | fit s | ×R (fit) | process s | peak MiB | R's answer |",
             "|---:|---|---|---|---:|---:|---:|---:|---|"]
    names = {"cox": "Cox fit", "km": "Kaplan-Meier median"}
    for (n, what), g in df.groupby(["n", "what"], sort=True):
        med = g.groupby("tool")[["fit_s", "process_s", "peak_mib"]].median()
        r_coefs = g[g["tool"] == "R"]["coefs"].iloc[0] if (g["tool"] == "R").any() else None
        r_fit = med.loc["R", "fit_s"] if "R" in med.index else float("nan")
        for tool in dict.fromkeys(g["tool"]):
            coefs = g[g["tool"] == tool]["coefs"].iloc[0]
            if r_coefs is None or tool == "R":
                same = "(the reference)" if tool == "R" else "–"
            else:
                diff = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(coefs, r_coefs))
                same = "yes" if diff <= 1e-6 and len(coefs) == len(r_coefs) else f"no (differs by {diff:.1e})"
            ties = g[g["tool"] == tool]["ties"].iloc[0] if what == "cox" else "–"
            lines.append(f"| {n:,} | {names[what]} | {tool} | {ties} | {_fmt(med.loc[tool, 'fit_s'], 3)} | "
                         f"{_fmt(med.loc[tool, 'fit_s'] / r_fit)} | {_fmt(med.loc[tool, 'process_s'], 1)} | "
                         f"{_fmt(med.loc[tool, 'peak_mib'], 0)} | {same} |")
    lines.append("")
    return lines


def reruns_section(rows: list[dict]) -> tuple[list[str], list[str]]:
    if not rows:
        return ["## The default cohort: cold, warm and edited reruns", "", "Not measured in this run.", ""], \
            [f"| default cohort: {step} under {limit} s | not run | **not measured** |"
             for step, limit in RERUN_TARGETS.items()]
    lines = ["## The default cohort: cold, warm and edited reruns", "",
             "`python -m compendium run --out DIR --no-progress` on the default (synthetic) cohort as a whole "
             "process: first into a new folder (no output cached; the kernel registered, the files in the "
             "operating system's cache, and the repository's own run recording how long each notebook took, "
             "which orders the notebooks), then again with nothing changed, then after appending a paragraph to "
             "one notebook's source (restored afterwards); the three, repeated. Each cell: median (range) over "
             "the repeats; *runner*: the runner's own summary line, last repeat.", "",
             "| run | wall s | CPU s | peak MiB | runner |", "|---|---:|---:|---:|---|"]
    targets = []
    df = pd.DataFrame(rows)
    for step, g in df.groupby("step", sort=False):
        ok = bool(g["ok"].all())
        wall, cpu = g["wall_s"].median(), g["cpu_s"].median()
        spread = f" ({g['wall_s'].min():.1f}–{g['wall_s'].max():.1f})" if len(g) > 1 else ""
        lines.append(f"| {step} | {_fmt(wall, 1)}{spread} | {_fmt(cpu, 1)} | {_fmt(g['peak_mib'].max(), 0)} | "
                     f"{g['summary'].iloc[-1] or 'FAILED'} |")
        if step in RERUN_TARGETS:
            limit = RERUN_TARGETS[step]
            targets.append(f"| default cohort: {step} under {limit} s | {_fmt(wall, 1)} s wall, median of {len(g)}"
                           f"{spread} ({_fmt(cpu, 1)} s CPU) | {_met(ok and wall <= limit)} |")
    lines.append("")
    return lines, targets


def notes(rows: list[dict], reruns: list[dict]) -> list[str]:
    lines = ["## Notes", ""]
    lines.append("- The verdict is on wall clock. A whole run executes two notebooks at a time on the two cores, "
                 "so its wall time is about half the notebooks' CPU time plus what cannot overlap (notebook 01 "
                 "first, 08 last, and the runner's own checks of the input before anything runs).")
    if rows:
        df = pd.DataFrame(rows).drop_duplicates(["n", "step"], keep="last")
        small = df[(df["n"] == df["n"].min()) & (df["step"] != WHOLE)]
        whole = df[(df["n"] == df["n"].min()) & (df["step"] == WHOLE)]
        if not small.empty and not whole.empty:
            lines.append(f"- Start-up: at {df['n'].min():,} patients the notebooks, each in its own freshly started "
                         f"kernel, take {small['wall_s'].sum():.0f} s one after another; the whole run, with kernels "
                         f"forked from the warm process and two at a time, {whole.iloc[0].wall_s:.0f} s.")
        missing = [n for n in PIPELINE_TARGETS if n not in set(df["n"])]
        if missing:
            lines.append("- Not run: the pipeline at " + ", ".join(f"{n:,}" for n in missing) + " patients.")
    if reruns:
        edited = [r for r in reruns if r["step"].startswith("rerun after editing")]
        if edited:
            lines.append(f"- The edited notebook's rerun executes that notebook only ({edited[-1]['summary']}): "
                         "its prose changed, its outputs did not, so nothing downstream is executed again.")
    lines.append("")
    return lines


def main(argv=None) -> int:
    files = [Path(a) for a in (argv or sys.argv[1:])] or DEFAULT
    runs = [json.loads(p.read_text()) for p in files]
    fits = [f for run in runs for f in run.get("fits", [])]
    pipeline = [p for run in runs for p in run.get("pipeline", [])]
    reruns = [p for run in runs for p in run.get("reruns", [])]
    peers = [p for run in runs for p in run.get("peers", [])]
    baseline = [p for path in BASELINE for p in json.loads(path.read_text()).get("pipeline", [])]
    fit_lines, fit_targets = fits_section(fits)
    pipe_lines, pipe_targets = pipeline_section(pipeline)
    rerun_lines, rerun_targets = reruns_section(reruns)
    out = ["# Benchmark results (issues 11 and 20)", "",
           "Written by `benchmarks/report.py` from " + ", ".join(f"`{p.name}`" for p in files)
           + ", measured by `benchmarks/run.py` (see the README), and compared with the measurements made "
           "before issue 20's work (`baseline/`). Nothing here is typed by hand.", ""]
    out += machine_section(runs)
    table = fit_targets + pipe_targets + not_slower(pipeline, baseline) + rerun_targets
    met = sum("**met**" in row for row in table)
    out += ["## Targets", "", f"{met} of the {len(table)} targets are met.", "",
            "| target | measured | |", "|---|---|---|"] + table + [""]
    out += rerun_lines + fit_lines + peers_section(peers) + pipe_lines + notes(pipeline, reruns)
    if baseline:  # what "no slower than before" is judged against, as it was measured then
        base_reruns = [p for path in BASELINE for p in json.loads(path.read_text()).get("reruns", [])]
        before = [line.replace("## Pipeline at growing N", "## Before issue 20: the pipeline at growing N (baseline/)")
                  .replace("## The default cohort: cold, warm and edited reruns",
                           "## Before issue 20: the default cohort's reruns (baseline/)")
                  for line in pipeline_section(baseline)[0] + reruns_section(base_reruns)[0]]
        out += before
    (HERE / "results.md").write_text("\n".join(out) + "\n")
    print("wrote benchmarks/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
