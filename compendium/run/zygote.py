"""Kernels forked from a warm process: every notebook's kernel starts with its libraries imported.

Each notebook runs in a kernel of its own, and a fresh Python process spends about two and a
half seconds importing IPython, the kernel, pandas, scipy, matplotlib and this package before
it runs the notebook's first line: with nine notebooks, half of a cold run. For one run,
``compendium run`` therefore starts one process that imports all of that once (the *zygote*)
and asks it, for each notebook, to fork a kernel. The kernel is a copy of the warm process;
it reads its connection file, its working directory and its environment from the request, so
it is the kernel papermill would have started, without the imports.

The kernel manager launches, instead of ``python -m ipykernel_launcher -f FILE``, a small stub
(:data:`STUB`, the standard library only) that asks the zygote for a kernel, forwards the
signals it receives to it and exits with its exit code: jupyter_client keeps a child process
to watch, interrupt and kill, as it expects. A kernel whose stub disappears is killed; the
zygote and every kernel it forked end with the run. Where ``os.fork`` does not exist, or the
zygote does not come up, or ``DARAVD_FORK_KERNELS=0`` is set, kernels start the usual way.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

#: imported once, before any fork: what the notebooks import (IPython and the kernel first)
PRELOAD = ("IPython", "ipykernel.kernelapp", "ipykernel.ipkernel",
           # what a kernel imports while it starts: its debugger (debugpy), history (sqlite3), magics
           "ipykernel.debugger", "IPython.core.debugger", "IPython.core.completerlib", "IPython.core.oinspect",
           "IPython.core.logger", "IPython.extensions.storemagic", "sqlite3", "pdb", "tornado.gen",
           "tornado.locks", "tornado.queues", "tornado.platform.asyncio",
           "numpy", "pandas", "scipy.stats",
           "scipy.optimize", "scipy.special", "matplotlib", "matplotlib.figure", "matplotlib.font_manager",
           "matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg", "PIL.Image")
#: modules of this package that are not imported by notebooks
NOT_PRELOADED = {"compendium.__main__", "compendium.run"}
READY = "zygote ready"
STARTUP_TIMEOUT_S = 60

#: The command the kernel manager starts for each kernel (``python -S -c STUB SOCKET CONNECTION_FILE``).
STUB = r"""
import json, os, signal, socket, sys, time
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sys.argv[1])
request = {"connection_file": sys.argv[2], "cwd": os.getcwd(), "env": dict(os.environ)}
sock.sendall((json.dumps(request) + "\n").encode())
reply = sock.makefile("r")
pid = int(reply.readline())
def forward(signum, frame):
    if signum == signal.SIGINT:
        # jupyter_client interrupts every kernel it shuts down and kills it at once; a kill ends this
        # stub during the pause, so that a kernel being shut down is not interrupted (as a kernel
        # started directly is not: the kill reaches it first). A real interrupt arrives 50 ms later.
        time.sleep(0.05)
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
    signal.signal(signum, forward)
line = reply.readline()
sys.exit(int(line.split()[1]) if line.startswith("exit ") else 1)
"""


def enabled() -> bool:
    return hasattr(os, "fork") and os.environ.get("DARAVD_FORK_KERNELS", "1") != "0"


def preload() -> None:
    """Import what every kernel would import (a module that fails to import is left to the kernel)."""
    # the backend ipykernel registers for the kernels' figures: set before matplotlib is imported
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    package = Path(__file__).resolve().parent.parent
    modules = [".".join(("compendium", *p.relative_to(package).with_suffix("").parts)).removesuffix(".__init__")
               for p in sorted(package.rglob("*.py"))]
    names = list(PRELOAD) + [m for m in modules
                             if not any(m == skip or m.startswith(skip + ".") for skip in NOT_PRELOADED)]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the kernel will import it itself, and say what is wrong
            pass


def _kernel(request: dict, zygote_pid: int) -> None:
    """In the forked child: become the kernel of ``request``; never returns."""
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
        for signum in (signal.SIGTERM, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in any new Python process
        if "pandas" in sys.modules:
            # pandas, imported here outside a kernel, chose the terminal's display (max_columns 0:
            # fit the terminal); imported in a kernel it chooses 20 columns. Outputs must not differ.
            sys.modules["pandas"].set_option("display.max_columns", 20)
        from ipykernel.kernelapp import IPKernelApp

        # the kernel ends if the zygote ends (the usual kernel watches the process that started it)
        IPKernelApp.launch_instance(argv=["-f", request["connection_file"],
                                          f"--IPKernelApp.parent_handle={zygote_pid}"])
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001 - report on the kernel's stderr, as a crashed kernel would
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def serve(path: str) -> None:
    """Listen on the UNIX socket ``path``; fork a kernel for each request, report its exit."""
    # as ipykernel_launcher does: the working directory is no place to import from
    if sys.path[0] == "" or Path(sys.path[0]) == Path.cwd():
        del sys.path[0]
    preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    children: dict[int, socket.socket | None] = {}   # kernel pid -> its stub's connection (None: stub gone)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C reaches the runner, which ends the run
    print(READY, flush=True)
    os.dup2(2, 1)  # from now on the kernels' own output goes where the runner's errors go
    runner = os.getppid()
    try:
        while True:
            if os.getppid() != runner:  # the runner is gone (killed): so are this process and its kernels
                raise SystemExit(0)
            while children:  # report the kernels that ended
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                conn = children.pop(pid, None)
                if conn is not None:
                    try:
                        conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
                    except OSError:
                        pass
                    conn.close()
            stubs = {conn: pid for pid, conn in children.items() if conn is not None}
            readable, _, _ = select.select([listener, *stubs], [], [], 0.1)
            for ready in readable:
                if ready is listener:
                    conn, _ = listener.accept()
                    request = json.loads(conn.makefile("r").readline())
                    pid = os.fork()
                    if pid == 0:
                        listener.close()
                        for other in stubs:
                            other.close()
                        conn.close()
                        _kernel(request, os.getppid())
                    children[pid] = conn
                    conn.sendall(f"{pid}\n".encode())
                else:  # a stub sends nothing after its request: readable means it went away (killed)
                    pid = stubs[ready]
                    try:
                        os.kill(pid, signal.SIGKILL)  # its kernel goes too; reaped above
                    except ProcessLookupError:
                        pass
                    ready.close()
                    children[pid] = None
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        listener.close()


class Zygote:
    """The warm process of one run (a context manager); ``path`` is None when it is not in use."""

    def __init__(self, cwd: str | os.PathLike | None = None) -> None:
        self.cwd = cwd  # the kernels' working directory: the warm process imports from there too
        self.path: str | None = None                 # the socket, once the warm process listens on it
        self._socket: str | None = None
        self._ended = False                          # closed (or failed to start): never started again
        self.process: subprocess.Popen | None = None

    def start(self) -> "Zygote":
        """Start the warm process (it imports in the background; :meth:`ready` waits for it)."""
        if enabled() and self.process is None and not self._ended:
            path = os.path.join(tempfile.gettempdir(), f"daravd-zygote-{uuid.uuid4().hex[:12]}.sock")
            try:
                # -Xfrozen_modules=off, as the kernel spec starts kernels (their debugger asks for it)
                self.process = subprocess.Popen([sys.executable, "-Xfrozen_modules=off", "-m", "compendium.run.zygote",
                                                 path], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, cwd=self.cwd,
                                                start_new_session=True, text=True)
                self._socket = path
            except OSError:
                self.process = None
        return self

    def ready(self) -> bool:
        """Wait until the warm process listens; False (and kernels start the usual way) if it does not."""
        if self.path is not None:
            return True
        if self.process is None:
            return False
        try:
            waiting, _, _ = select.select([self.process.stdout], [], [], STARTUP_TIMEOUT_S)
            if waiting and self.process.stdout.readline().strip() == READY:
                self.path = self._socket
            self.process.stdout.close()
        except (OSError, ValueError):
            pass
        if self.path is None:
            self.close()
        return self.path is not None

    def __enter__(self) -> "Zygote":
        self.start().ready()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """End the warm process and every kernel it forked (they watch it and end with it)."""
        self._ended = True
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self._socket is not None:
            Path(self._socket).unlink(missing_ok=True)
        self.path = self._socket = None

    def kernel_cmd(self, connection_file: str) -> list[str]:
        """The command that starts one kernel through this zygote."""
        return [sys.executable, "-S", "-c", STUB, self.path, connection_file]


_EARLY: Zygote | None = None


def start_early(cwd) -> None:
    """Start this run's warm process as the very first thing (``python -m compendium run``), so that
    it imports while the runner itself loads; :func:`take` hands it to the runner."""
    global _EARLY
    if _EARLY is None:
        _EARLY = Zygote(cwd).start()
        atexit.register(_EARLY.close)


def take(cwd) -> Zygote:
    """The warm process started early, else a new one (started)."""
    global _EARLY
    warm, _EARLY = _EARLY, None
    return warm if warm is not None else Zygote(cwd).start()


if __name__ == "__main__":
    serve(sys.argv[1])
