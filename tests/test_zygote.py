"""Kernels forked from the warm process behave as freshly started ones, and none outlives its run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import papermill as pm
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from compendium import paths
from compendium.run import runner, zygote

PROBE = """
import json, os, sys
import pandas
print(json.dumps({"pid": os.getpid(), "cwd": os.getcwd(), "path0": sys.path[0], "mark": os.environ.get("DARAVD_PROBE"),
                  "max_columns": pandas.get_option("display.max_columns"),
                  "backend": os.environ.get("MPLBACKEND"), "sigint": str(__import__("signal").getsignal(2))}))
"""
PRELOADED = "print(json.dumps({'scipy_already_imported': 'scipy.stats' in sys.modules}))"


def _probe(tmp_path, warm, name):
    nb = new_notebook(cells=[new_code_cell(PROBE), new_code_cell(PRELOADED)])
    nb.metadata["kernelspec"] = {"name": runner.KERNEL, "language": "python", "display_name": runner.KERNEL_DISPLAY}
    src, out = tmp_path / f"{name}.in.ipynb", tmp_path / f"{name}.ipynb"
    nbformat.write(nb, src)
    runner.ensure_kernel()
    pm.execute_notebook(str(src), str(out), kernel_name=runner.KERNEL, progress_bar=False,
                        cwd=str(paths.NOTEBOOKS), kernel_manager_class=runner._ipc_kernel_manager(warm))
    cells = nbformat.read(out, as_version=4).cells
    return [json.loads(c.outputs[0]["text"]) for c in cells]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (ended, not yet reaped by its parent) is not alive
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork exists on POSIX systems only")
def test_forked_kernel_is_the_kernel_papermill_would_start(tmp_path, monkeypatch):
    monkeypatch.setenv("DARAVD_PROBE", "from the runner's environment")
    cold = _probe(tmp_path, None, "cold")
    with zygote.Zygote(paths.NOTEBOOKS) as warm:
        assert warm.path is not None
        forked = _probe(tmp_path, warm, "warm")
        kernel_pid = forked[0].pop("pid")
        warm_pid = warm.process.pid
    cold[0].pop("pid")
    # the same working directory, sys.path, environment, pandas display and matplotlib backend
    assert forked[0] == cold[0]
    assert cold[0]["mark"] == "from the runner's environment"
    # ... and the forked one had its libraries before its first line ran (the point of it)
    assert forked[1] == {"scipy_already_imported": True}
    assert cold[1] == {"scipy_already_imported": False}
    # nothing outlives the run: neither the kernel nor the warm process
    time.sleep(0.3)
    assert not _alive(kernel_pid) and not _alive(warm_pid)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork exists on POSIX systems only")
def test_a_killed_kernel_process_takes_its_forked_kernel_with_it():
    """jupyter_client kills the process it started (the stub): the forked kernel must end too."""
    import asyncio

    async def start_and_kill(warm):
        km = runner._ipc_kernel_manager(warm)(kernel_name=runner.KERNEL)
        await km.start_kernel(cwd=str(paths.NOTEBOOKS))
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        msg_id = kc.execute("import os; print(os.getpid())")
        pid = None
        while pid is None:
            msg = await kc.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                pid = int(msg["content"]["text"])
        kc.stop_channels()
        os.kill(km.provisioner.pid, signal.SIGKILL)
        await km.shutdown_kernel(now=True)
        return pid

    runner.ensure_kernel()
    with zygote.Zygote(paths.NOTEBOOKS) as warm:
        kernel_pid = asyncio.run(start_and_kill(warm))
        for _ in range(50):
            if not _alive(kernel_pid):
                break
            time.sleep(0.1)
        assert not _alive(kernel_pid)
        assert warm.process.poll() is None  # the warm process itself goes on serving


def test_fork_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("DARAVD_FORK_KERNELS", "0")
    warm = zygote.Zygote(paths.NOTEBOOKS).start()
    assert warm.process is None and not warm.ready()
    km = runner._ipc_kernel_manager(warm)(kernel_name=runner.KERNEL)
    km.kernel_spec  # noqa: B018 - loads the spec
    assert "-S" not in km.format_kernel_cmd()  # the kernel spec's own command, not the stub
    warm.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork exists on POSIX systems only")
def test_the_warm_process_ends_when_its_runner_is_killed(tmp_path):
    script = tmp_path / "runner.py"
    script.write_text("import sys, time\nfrom compendium.run import zygote\n"
                      "z = zygote.Zygote(sys.argv[1]).start()\nassert z.ready()\n"
                      "print(z.process.pid, flush=True)\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, str(script), str(paths.NOTEBOOKS)], stdout=subprocess.PIPE, text=True)
    warm_pid = int(proc.stdout.readline())
    assert _alive(warm_pid)
    proc.kill()
    proc.wait()
    for _ in range(50):
        if not _alive(warm_pid):
            break
        time.sleep(0.1)
    assert not _alive(warm_pid)
