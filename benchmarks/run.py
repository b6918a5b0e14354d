"""Benchmark: survival fits against R, and the pipeline at growing N (issue 11, part 5).

    .venv/bin/python benchmarks/run.py [--sizes 1000 10000 100000] [--fit-sizes 1000 ... 1000000]
                                       [--whole 10000 ...] [--repeats 3] [--work DIR]
                                       [--skip-reruns] [--skip-fits] [--skip-pipeline]

Everything is measured as whole processes (``/usr/bin/time -v``: wall time and the
peak resident memory of the process tree), so imports, start-up and reading the
file count as a user would feel them; each fit process also reports the time of the
fit alone. Python and R alternate, fit by fit and repeat by repeat, so that the
load of a shared machine falls on both. Writes ``benchmarks/results.json`` (every
measurement) and prints a summary; ``benchmarks/report.py`` turns the JSON into
``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
TIME = "/usr/bin/time"

PY_FIT = r"""
import sys, time
import pandas as pd
from compendium.stats import survival as sv
what, path = sys.argv[1], sys.argv[2]
df = pd.read_csv(path)
t0 = time.perf_counter()
if what == "km":
    res = sv.km_median(df["pfs_months"], df["pfs_event"])
    out = res["median"]
else:
    fit = sv.cox_fit(df, "pfs", ["age", "emd", "isotype"], references={"isotype": "IgG"})
    out = fit.coef[0]
    if what == "zph":
        t0 = time.perf_counter()
        out = sv.cox_zph(fit)["chisq"].iloc[-1]
print(f"SECONDS {time.perf_counter() - t0:.6f} VALUE {out:.10g}")
"""

#: what both R scripts start with: the data read as the Python side reads them, the clock started
R_HEAD = r"""
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
what <- args[1]
df <- read.csv(args[2])
df$isotype <- relevel(factor(df$isotype), ref = "IgG")
t0 <- proc.time()[["elapsed"]]
"""

R_FIT = R_HEAD + r"""if (what == "km") {
  fit <- survfit(Surv(pfs_months, pfs_event) ~ 1, data = df)
  out <- quantile(fit, 0.5)$quantile
} else {
  fit <- coxph(Surv(pfs_months, pfs_event) ~ age + emd + isotype, data = df, ties = "efron")
  out <- coef(fit)[1]
  if (what == "zph") {
    t0 <- proc.time()[["elapsed"]]
    z <- cox.zph(fit)
    out <- z$table["GLOBAL", "chisq"]
  }
}
cat(sprintf("SECONDS %.6f VALUE %.10g\n", proc.time()[["elapsed"]] - t0, out))
"""


#: The peers, each in its own process on the same file as R and the compendium (issue 20, part 4).
#: Every Cox fit asks for Efron's ties, R's default; where a library's default is another convention
#: it is named in PEER_TIES, and the fit is given Efron's explicitly.
PEER_TIES = {
    "compendium": "Efron (the only convention; R's default)",
    "R": "Efron (coxph's default)",
    "lifelines": "Efron (CoxPHFitter's only convention)",
    "statsmodels": "Efron, asked for (PHReg's default is Breslow)",
    "scikit-survival": "Efron, asked for (CoxPHSurvivalAnalysis's default is Breslow)",
}
PEER_FIT = r"""
import sys, time
import numpy as np
import pandas as pd
tool, what, path = sys.argv[1], sys.argv[2], sys.argv[3]
df = pd.read_csv(path)
# the design R builds: age, emd, and the 3-level isotype with IgG as reference (levels sorted as R sorts them)
X = pd.DataFrame({"age": df["age"], "emd": df["emd"]})
for level in sorted(set(df["isotype"]) - {"IgG"}):
    X["isotype" + level] = (df["isotype"] == level).astype(float)
t, e = df["pfs_months"].to_numpy(), df["pfs_event"].to_numpy()
# imports before the clock starts: the fit alone is timed, as for R (the process time has both)
if tool == "lifelines":
    from lifelines import CoxPHFitter, KaplanMeierFitter
elif tool == "statsmodels":
    from statsmodels.duration.hazard_regression import PHReg
elif tool == "scikit-survival":
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.util import Surv
else:
    from compendium.stats import survival as sv
t0 = time.perf_counter()
if tool == "lifelines" and what == "km":
    out = [KaplanMeierFitter().fit(t, e).median_survival_time_]
elif tool == "lifelines":
    fit = CoxPHFitter().fit(X.assign(T=t, E=e), "T", "E")
    out = fit.params_[X.columns].to_numpy()
elif tool == "statsmodels":
    out = PHReg(t, X.to_numpy(float), status=e, ties="efron").fit().params
elif tool == "scikit-survival":
    fit = CoxPHSurvivalAnalysis(ties="efron").fit(X.to_numpy(float), Surv.from_arrays(e.astype(bool), t))
    out = fit.coef_
elif what == "km":
    out = [sv.km_median(df["pfs_months"], df["pfs_event"])["median"]]
else:
    out = list(sv.cox_fit(df, "pfs", ["age", "emd", "isotype"], references={"isotype": "IgG"}).coef)
seconds = time.perf_counter() - t0
print(f"SECONDS {seconds:.6f} VALUE {out[0]:.10g} ALL " + " ".join(f"{v:.10g}" for v in out))
"""

R_PEER = R_HEAD + r"""if (what == "km") {
  out <- quantile(survfit(Surv(pfs_months, pfs_event) ~ 1, data = df), 0.5)$quantile
} else {
  out <- coef(coxph(Surv(pfs_months, pfs_event) ~ age + emd + isotype, data = df, ties = "efron"))
}
cat(sprintf("SECONDS %.6f VALUE %.10g ALL %s\n", proc.time()[["elapsed"]] - t0, out[1],
            paste(sprintf("%.10g", out), collapse = " ")))
"""


def bench_peers(sizes, repeats, work: Path, save=lambda rows: None) -> list[dict]:
    """Cox fits (Efron) by the compendium, R and three Python peers, and Kaplan-Meier medians by the
    compendium, R and lifelines, on the same files; every tool in its own process, the order rotated
    from repeat to repeat. Each row keeps every coefficient, so the report can say whether a peer
    gives R's answer."""
    (work / "peer.py").write_text(PEER_FIT)
    (work / "peer.R").write_text(R_PEER)
    tools = {"cox": ["compendium", "R", "lifelines", "statsmodels", "scikit-survival"],
             "km": ["compendium", "R", "lifelines"]}
    rows = []
    for n in sizes:
        data = work / f"fit_{n}.csv"
        fit_data(n, 11, data)
        for rep in range(repeats):
            for what, names in tools.items():
                order = names[rep % len(names):] + names[:rep % len(names)]
                for tool in order:
                    cmd = (["Rscript", str(work / "peer.R"), what, str(data)] if tool == "R"
                           else [PYTHON, str(work / "peer.py"), tool, what, str(data)])
                    res = timed(cmd)
                    found = re.search(r"SECONDS (\S+) VALUE (\S+) ALL (.+)", res["stdout"])
                    rows.append({"n": n, "what": what, "tool": tool, "repeat": rep, "ties": PEER_TIES[tool],
                                 "process_s": res["wall_s"], "process_cpu_s": res["cpu_s"], "peak_mib": res["peak_mib"],
                                 "ok": res["ok"] and found is not None,
                                 "fit_s": float(found.group(1)) if found else None,
                                 "coefs": [float(v) for v in found.group(3).split()] if found else None,
                                 "error": res["stderr"]})
                    save(rows)
                    print(f"peers n={n} {what} {tool} rep{rep}: {rows[-1]['fit_s']} s "
                          f"(process {res['wall_s']} s, {res['peak_mib'] or 0:.0f} MiB)", flush=True)
    return rows


def _tree_rss_mib(root: int) -> float:
    """Resident memory of ``root`` and all its descendants now (MiB), from /proc."""
    parent, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parent[int(entry.name)], rss[int(entry.name)] = int(fields[1]), int(fields[21])
            except (OSError, IndexError, ValueError):
                continue
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(p for p, pp in parent.items() if pp == pid and p not in tree)
    return sum(rss.get(p, 0) for p in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(cmd: list[str], cwd: Path = ROOT, nice: bool = True, tree: bool = False) -> dict:
    """Run ``cmd`` under /usr/bin/time -v; wall seconds, peak RSS (MiB) of the largest process of the
    tree, output; with ``tree``, also the peak of the whole tree's resident memory together
    (``tree_peak_mib``, sampled every 0.25 s: processes running side by side add up)."""
    full = ([TIME, "-v"] if Path(TIME).exists() else []) + (["nice", "-n", "5"] if nice else []) + cmd
    child = subprocess.Popen(full, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, done = [0.0], threading.Event()

    def sample():
        while not done.wait(0.25):
            peak[0] = max(peak[0], _tree_rss_mib(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    if tree and Path("/proc").is_dir():
        sampler.start()
    out, err = child.communicate()
    done.set()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", err)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): (\d+(?:\.\d+)?)", err)]
    seconds = None
    if wall:
        h, m, s = wall.groups()
        seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    return {"ok": child.returncode == 0, "wall_s": seconds, "cpu_s": sum(cpu) if cpu else None,
            "peak_mib": int(rss.group(1)) / 1024 if rss else None, "tree_peak_mib": peak[0] or None,
            "stdout": out[-2000:], "stderr": err[-3000:] if child.returncode else ""}


def machine() -> dict:
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else ""
    mem = ""
    if Path("/proc/meminfo").exists():
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    r_version = subprocess.run(["Rscript", "-e", "cat(R.version.string, as.character(packageVersion('survival')))"],
                               capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "r": r_version, "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}


def fit_data(n: int, seed: int, path: Path) -> None:
    """Survival data with the analysis set's column names: time to progression in months
    (days / 30.4375, so ties occur as in the real data), a continuous, a 0/1 and a
    3-level covariate, with known effects."""
    rng = np.random.default_rng(seed)
    age = rng.normal(68, 9, n).round()
    emd = rng.binomial(1, 0.2, n)
    isotype = rng.choice(["IgG", "IgA", "light chain"], n, p=[0.6, 0.25, 0.15])
    lp = 0.02 * (age - 68) + 0.5 * emd + np.where(isotype == "IgA", 0.3, 0.0)
    days = np.ceil(rng.exponential(600 * np.exp(-lp)))
    censor = np.ceil(rng.uniform(100, 1500, n))
    pd.DataFrame({"pfs_months": np.minimum(days, censor) / 30.4375, "pfs_event": (days <= censor).astype(int),
                  "age": age, "emd": emd, "isotype": isotype}).to_csv(path, index=False)


def bench_fits(sizes, repeats, work: Path, save=lambda rows: None) -> list[dict]:
    (work / "fit.py").write_text(PY_FIT)
    (work / "fit.R").write_text(R_FIT)
    rows = []
    for n in sizes:
        data = work / f"fit_{n}.csv"
        fit_data(n, 11, data)
        for rep in range(repeats):
            for what in ("cox", "zph", "km"):
                pair = [("python", [PYTHON, str(work / "fit.py"), what, str(data)]),
                        ("R", ["Rscript", str(work / "fit.R"), what, str(data)])]
                for tool, cmd in (pair if rep % 2 == 0 else pair[::-1]):  # alternate who goes first
                    res = timed(cmd)
                    found = re.search(r"SECONDS (\S+) VALUE (\S+)", res["stdout"])
                    rows.append({"n": n, "what": what, "tool": tool, "repeat": rep, "process_s": res["wall_s"],
                                 "process_cpu_s": res["cpu_s"],
                                 "peak_mib": res["peak_mib"], "ok": res["ok"] and found is not None,
                                 "fit_s": float(found.group(1)) if found else None,
                                 "value": float(found.group(2)) if found else None, "error": res["stderr"]})
                    save(rows)
                    print(f"fit n={n} {what} {tool} rep{rep}: {rows[-1]['fit_s']} s "
                          f"(process {res['wall_s']} s, {res['peak_mib']:.0f} MiB)", flush=True)
    return rows


def cohort(n: int, path: Path) -> str:
    """A raw-format cohort: the synthetic generator when it takes --n, else the resampler."""
    probe = subprocess.run([PYTHON, "-m", "compendium", "synthetic", "--help"], cwd=ROOT, capture_output=True, text=True)
    if "--n" in probe.stdout:
        cmd = [PYTHON, "-m", "compendium", "synthetic", "--n", str(n), "--seed", "1", "--out", str(path)]
        how = "python -m compendium synthetic --n"
    else:
        cmd = [PYTHON, str(HERE / "make_cohort.py"), "--n", str(n), "--seed", "1", "--out", str(path),
               "--no-validate"]
        how = "benchmarks/make_cohort.py (resampled synthetic cohort)"
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return how


ONE_NOTEBOOK = r"""
import sys
from pathlib import Path
from compendium import paths
from compendium.run import runner
key, data, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
nb = next(nb for nb in runner.discover() if nb.key == key)
staging = paths.Paths(work)
parameters = {"data_path": str(data), "spec_path": None, "mapping_path": None}
runner.execute(nb, parameters, staging, runner.shown_parameters(data, staging), progress=False)
"""

#: the notebook edited for the "rerun after editing one notebook" measurement, and the edit
EDITED = "04_survival"
EDIT = "\n# %% [markdown]\n# (benchmark: an edited paragraph; removed again when the benchmark ends)\n"


def bench_pipeline(sizes, work: Path, whole=(), save=lambda rows: None, per_notebook: bool = True) -> list[dict]:
    """Per notebook (each in its own process, as the runner executes it), then the whole
    ``python -m compendium run`` end to end for the sizes in ``whole``."""
    from compendium.run import runner

    (work / "one_notebook.py").write_text(ONE_NOTEBOOK)
    rows = []
    for n in sizes:
        data = work / f"cohort_{n}.csv"
        how = cohort(n, data)
        per = work / f"per_notebook_{n}"
        # as `compendium run` does: 00 (how the default synthetic cohort was made) is skipped for other input
        for nb in [nb for nb in runner.discover() if nb.key != "00" and per_notebook]:
            res = timed([PYTHON, str(work / "one_notebook.py"), nb.key, str(data), str(per)])
            rows.append({"n": n, "cohort": how, "step": nb.stem, **{k: res[k] for k in ("ok", "wall_s", "cpu_s", "peak_mib")},
                         "error": res["stderr"][-1500:]})
            save(rows)
            print(f"pipeline n={n} {nb.stem}: {res['wall_s']} s, {res['peak_mib']:.0f} MiB, ok={res['ok']}",
                  flush=True)
            if not res["ok"]:
                break
        shutil.rmtree(per, ignore_errors=True)
        if n not in whole:
            data.unlink(missing_ok=True)
            continue
        out = work / f"run_{n}"
        res = timed([PYTHON, "-m", "compendium", "run", "--data", str(data), "--out", str(out), "--no-progress"],
                    tree=True)
        rows.append({"n": n, "cohort": how, "step": "compendium run (whole)",
                     **{k: res[k] for k in ("ok", "wall_s", "cpu_s", "peak_mib", "tree_peak_mib")},
                     "error": res["stderr"][-1500:]})
        save(rows)
        print(f"pipeline n={n} whole run: {res['wall_s']} s, {res['peak_mib']:.0f} MiB "
              f"(all processes together: {res['tree_peak_mib'] or 0:.0f} MiB), ok={res['ok']}", flush=True)
        shutil.rmtree(out, ignore_errors=True)
        data.unlink(missing_ok=True)
    return rows


def _summary(stdout: str) -> str:
    found = re.search(r"\d+ notebooks: .*", stdout)
    return found.group(0) if found else ""


def bench_reruns(work: Path, repeats: int = 3, save=lambda rows: None) -> list[dict]:
    """The default cohort as a user runs it: a cold run into a new folder (nothing cached), a
    warm rerun with nothing changed, and a rerun after one notebook's source was edited
    (in place, restored afterwards), each as a whole ``python -m compendium run`` process."""
    from compendium import paths

    out = work / "rerun"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [PYTHON, "-m", "compendium", "run", "--out", str(out), "--no-progress"]
    source = paths.NOTEBOOKS / f"{EDITED}.py"
    original = source.read_bytes()
    rows = []

    def measure(step: str, repeat: int) -> None:
        res = timed(cmd, nice=False)
        rows.append({"step": step, "repeat": repeat, **{k: res[k] for k in ("ok", "wall_s", "cpu_s", "peak_mib")},
                     "summary": _summary(res["stdout"]), "error": res["stderr"][-1500:]})
        save(rows)
        print(f"rerun {step}: {res['wall_s']} s wall, {res['cpu_s']} s CPU; {rows[-1]['summary']}", flush=True)

    try:
        for repeat in range(repeats):
            shutil.rmtree(out, ignore_errors=True)
            measure("cold full run", repeat)
            measure("warm rerun, nothing changed", repeat)
            source.write_bytes(original + EDIT.encode())
            measure(f"rerun after editing {EDITED}", repeat)
            source.write_bytes(original)
    finally:
        source.write_bytes(original)
        shutil.rmtree(out, ignore_errors=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--whole", type=int, nargs="*", default=[10_000],
                        help="sizes also run end to end with `python -m compendium run`")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed)")
    parser.add_argument("--skip-fits", action="store_true")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--skip-reruns", action="store_true")
    parser.add_argument("--peers", type=int, nargs="*", default=[], metavar="N",
                        help="also compare Cox and Kaplan-Meier fits with lifelines, statsmodels and scikit-survival "
                             "at these sizes (needs the 'bench' extra)")
    parser.add_argument("--whole-only", action="store_true",
                        help="pipeline: only the whole runs (keeps the per-notebook rows already measured)")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="daravd-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.results.read_text()) if args.results.exists() else {}
    results = {"machine_before": machine(), **{key: previous.get(key, []) for key in ("fits", "pipeline", "reruns", "peers")}}
    def saver(key):
        def save(rows):  # after every measurement, so an interrupted benchmark keeps what it measured
            results[key] = rows
            results["machine_after"] = {**results["machine_before"],
                                        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}
            args.results.write_text(json.dumps(results, indent=1) + "\n")
        return save

    def kept(key, sizes):  # rows of sizes this invocation does not measure again are kept
        return [r for r in results[key] if r.get("n") not in sizes]

    try:
        if not args.skip_reruns:
            results["reruns"] = bench_reruns(work, args.repeats, saver("reruns"))
        if not args.skip_fits:
            old = kept("fits", args.fit_sizes)
            save = saver("fits")
            results["fits"] = old + bench_fits(args.fit_sizes, args.repeats, work, lambda rows: save(old + rows))
        if args.peers:
            old = kept("peers", args.peers)
            save = saver("peers")
            results["peers"] = old + bench_peers(args.peers, args.repeats, work, lambda rows: save(old + rows))
        if not args.skip_pipeline:
            old = ([r for r in results["pipeline"] if r.get("n") not in args.whole or r["step"] != "compendium run (whole)"]
                   if args.whole_only else kept("pipeline", args.sizes))
            save = saver("pipeline")
            results["pipeline"] = old + bench_pipeline(args.sizes, work, set(args.whole),
                                                       lambda rows: save(old + rows), per_notebook=not args.whole_only)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    results["machine_after"] = machine()
    args.results.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.results.relative_to(ROOT) if args.results.is_relative_to(ROOT) else args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
