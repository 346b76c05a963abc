"""Execute: run a restored notebook with papermill in a grading kernel.

Every cell runs, even after errors. Each cell has a timeout, the whole
notebook a deadline, the kernel's process tree a memory cap and the outputs a
size cap. A cell that times out is interrupted and the notebook goes on; a cell
the interrupt does not stop, or one that crashes the kernel or exceeds the
memory cap, is skipped in a fresh attempt, so the rest of the notebook still
counts. A cell that timed out is skipped in later attempts too.

Hidden-test records written while a cell runs are filed under that cell's
index (records/<index>/), so the score step knows which grade cell produced
which record.

The executor runs in its own process (`python -m autograde.grade.execute
JOB`), started by `execute()`; the kernel is its child. Killing the executor's
descendants kills the kernel and anything it forked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograde.grade.support.limits import Limits
from autograde.grade.support.status import CellRun

KERNEL_NAME = "autograde-python"
KERNEL_SCRIPT = Path(__file__).parent / "support" / "kernel.py"


@dataclass
class Execution:
    """statuses: cell index -> what happened to that cell."""

    statuses: dict[int, CellRun] = field(default_factory=dict)
    durations: dict[int, float] = field(default_factory=dict)
    attempts: int = 0
    seconds: float = 0.0
    peak_mb: float = 0.0  # peak resident memory of the kernel and its children, as sampled
    notes: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Execution:
        raw = json.loads(path.read_text())
        return cls(
            statuses={int(k): CellRun(v) for k, v in raw["statuses"].items()},
            durations={int(k): v for k, v in raw["durations"].items()},
            attempts=raw["attempts"],
            seconds=raw["seconds"],
            peak_mb=raw["peak_mb"],
            notes=raw["notes"],
        )


KERNEL_ENV = {
    "TQDM_DISABLE": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONWARNINGS": "ignore",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def execute(
    nb_path: Path,
    out_path: Path,
    workdir: Path,
    seed: str,
    limits: Limits,
    sandbox: str = "none",
    kernel_uid: int | None = None,
    record: bool = True,
) -> Execution:
    """Run the executor process on `nb_path`; the executed notebook goes to `out_path`.

    workdir holds the records (records/<cell index>/), the executor's log and, without a
    sandbox, the kernel's working directory. sandbox: "bwrap" or "none". kernel_uid: the
    unprivileged user a sandboxed kernel switches to (grader running as root). With
    record=False hidden tests judge inside the kernel, as when a notebook is run by hand.
    """
    from autograde.grade.support import processes

    job = {
        "notebook": str(nb_path),
        "output": str(out_path),
        "workdir": str(workdir),
        "seed": seed,
        "limits": asdict(limits),
        "sandbox": sandbox,
        "kernel_uid": kernel_uid,
        "record": record,
    }
    job_path = workdir / "job.json"
    job_path.write_text(json.dumps(job, indent=1))
    report = workdir / "execution.json"
    report.unlink(missing_ok=True)
    with open(workdir / "executor.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograde.grade.execute", str(job_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=processes.die_with_parent,
        )
        try:
            proc.wait(timeout=limits.notebook_timeout + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    processes.kill_tree()
    if report.exists():
        return Execution.load(report)
    return Execution(notes=["the grader's executor stopped unexpectedly; see executor.log"])


# -- inside the executor process ----------------------------------------------------------------


def _engine():
    """A papermill engine whose client caps outputs and calls our hooks."""
    from nbclient.util import ensure_async
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class GradingClient(PapermillNotebookClient):
        def __init__(self, nb_man, output_limits=(0, 0), on_timeout=None, **kw):
            super().__init__(nb_man, **kw)
            self.cell_cap, self.total_cap = output_limits
            self.on_timeout = on_timeout
            self.cell_bytes: dict[int, int] = {}
            self.total_bytes = 0

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {})))
            self.cell_bytes[cell_index] = self.cell_bytes.get(cell_index, 0) + size
            self.total_bytes += size
            if self.cell_bytes[cell_index] > self.cell_cap or self.total_bytes > self.total_cap:
                if not any(o.get("name") == "stdout" and "[output truncated" in o.get("text", "") for o in outs):
                    from nbformat.v4 import new_output

                    outs.append(
                        new_output(
                            "stream",
                            name="stdout",
                            text="\n[output truncated: this cell printed more than the grader keeps]\n",
                        )
                    )
                return None
            return super().output(outs, msg, display_id, cell_index)

        async def _async_handle_timeout(self, timeout, cell=None):
            """Interrupt a cell that ran out of time and wait for it once more; then give up on the run."""
            if self.on_timeout is not None and self.on_timeout():
                await ensure_async(self.km.interrupt_kernel())
                return None
            return await super()._async_handle_timeout(timeout, cell)

    class GradingEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, execution_timeout=None, start_timeout=60, **kwargs):
            kwargs = remove_args(["input_path", "log_output", "stdout_file", "stderr_file"], **kwargs)
            final = merge_kwargs(
                kwargs, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name
            )
            return GradingClient(nb_man, **final).execute()

    return GradingEngine


class _Attempt:
    """One run of the notebook: files records by cell, watches memory and the deadline."""

    def __init__(self, records: Path, limits: Limits, deadline: float, writable: list[Path]):
        self.records, self.limits, self.deadline, self.writable = records, limits, deadline, writable
        self.live = records / "live"
        self.current = -1
        self.stopped_for: CellRun | None = None  # set by the watchdog when it kills the kernel
        self.past_deadline = False
        self.interrupted: list[int] = []  # cells that timed out and were interrupted
        self.peak_bytes = 0
        self.done = threading.Event()

    def file_records(self) -> None:
        if self.current >= 0 and self.live.exists():
            target = self.records / str(self.current)
            for record in self.live.glob("*.pt"):
                target.mkdir(exist_ok=True)
                os.replace(record, target / record.name)

    def on_cell_start(self, cell, cell_index, **_):
        self.file_records()
        self.current = cell_index

    def on_timeout(self) -> bool:
        """Whether to interrupt the current cell: yes the first time it times out."""
        if self.current in self.interrupted:
            return False
        self.interrupted.append(self.current)
        return True

    def watch(self) -> None:
        from autograde.grade.support import processes

        cap = self.limits.memory_mb * 2**20
        ticks = 0
        while not self.done.wait(0.25):
            ticks += 1
            reason = None
            pids = processes.descendants()
            self.peak_bytes = max(self.peak_bytes, processes.peak_rss_bytes(pids))
            if time.monotonic() > self.deadline:
                reason, self.past_deadline = CellRun.TIMEOUT, True
            elif len(pids) > self.limits.max_processes:
                reason = CellRun.PROCESSES
            elif processes.memory_bytes(pids) > cap:
                reason = CellRun.MEMORY
            elif ticks % 4 == 0 and sum(processes.folder_bytes(f) for f in self.writable) > self.limits.disk_mb * 2**20:
                reason = CellRun.DISK
            if reason:
                self.stopped_for = reason
                processes.kill_tree()
                return


def _skip_source(kind: CellRun) -> str:
    return f'raise RuntimeError("skipped by the grader: in an earlier run this cell {kind.what_it_did}")'


def _prepare_kernel(job: dict, limits: Limits, workdir: Path, records: Path) -> tuple[Path, dict]:
    """Write this job's kernelspec (plain or sandboxed) and set the environment that finds it.

    Returns the executor's working directory during execution and the client's configuration.
    """
    import tempfile

    from autograde.grade.support import sandbox

    runtime = Path(tempfile.mkdtemp(prefix="ag-", dir="/tmp"))  # short: Unix socket paths are limited to ~100 bytes
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
    from autograde.fence import BOOT

    env = dict(KERNEL_ENV, AUTOGRADE_SEED=job["seed"], PYTHONPATH=str(BOOT))  # BOOT: the fence, first
    argv = [
        sys.executable,
        str(KERNEL_SCRIPT),
        "--address-space-mb",
        str(limits.memory_mb * 4),
        "--cpu-seconds",
        str(int(limits.notebook_timeout * 2)),
    ]
    uid = job["kernel_uid"]
    if uid is not None:
        argv += ["--uid", str(uid), "--max-processes", str(2 * limits.max_processes)]
        os.chown(runtime, uid, uid)  # the kernel creates its sockets here...
        runtime.chmod(0o711)  # ...and reads its connection file first, as root without capabilities
    argv += ["-f", "{connection_file}"]
    if job["sandbox"] == "bwrap":
        env.update(
            HOME="/tmp",
            IPYTHONDIR="/tmp/ipython",
            MPLCONFIGDIR="/tmp/matplotlib",
            LANG="C.UTF-8",
            PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        )
        if job["record"]:
            env["AUTOGRADE_RECORD_DIR"] = sandbox.INSIDE_RECORDS
        argv = sandbox.kernel_command(argv, records / "live", runtime, env, switch_user=uid is not None)
        config = {
            "KernelManager": {
                "transport": "ipc",
                "ip": str(runtime / "k"),
                "connection_file": str(runtime / "kernel.json"),
            }
        }
        cwd = workdir
    else:
        env.update(IPYTHONDIR=str(workdir / "ipython"), MPLCONFIGDIR=str(workdir / "matplotlib"))
        if job["record"]:
            env["AUTOGRADE_RECORD_DIR"] = str(records / "live")
        os.environ.update(env)  # inherited by the kernel
        config, cwd = {}, workdir / "cwd"
        cwd.mkdir(parents=True, exist_ok=True)
    spec = workdir / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            # interrupts travel as messages: a signal would not cross the sandbox's new session
            {"argv": argv, "display_name": "Python (grading)", "language": "python", "interrupt_mode": "message"},
            indent=1,
        )
    )
    os.environ["JUPYTER_PATH"] = str(workdir / "jupyter")
    from traitlets.config import Config

    return cwd, Config(config)


def _run_once(
    nb, job: dict, limits: Limits, attempt: _Attempt, cwd: Path, client_config, notes: list[str]
) -> CellRun | None:
    """One papermill run of `nb` under the attempt's watchdog; how it stopped (None: it finished)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.engines import papermill_engines
    from papermill.utils import chdir

    from autograde.grade.support import processes

    watchdog = threading.Thread(target=attempt.watch, daemon=True)
    watchdog.start()
    try:
        with chdir(str(cwd)):
            papermill_engines.execute_notebook_with_engine(
                "autograde",
                nb,
                kernel_name=KERNEL_NAME,
                output_path=None,
                progress_bar=False,
                execution_timeout=limits.cell_timeout,
                start_timeout=60,
                allow_errors=True,
                on_cell_start=attempt.on_cell_start,
                on_timeout=attempt.on_timeout,
                output_limits=(limits.output_kb_per_cell * 1024, limits.output_mb_total * 1024 * 1024),
                config=client_config,
            )
        return None
    except CellTimeoutError:
        return CellRun.TIMEOUT
    except DeadKernelError:
        return attempt.stopped_for or CellRun.CRASHED
    except Exception as error:  # noqa: BLE001 - a kernel that cannot start, a broken message
        notes.append(f"execution stopped: {type(error).__name__}: {str(error)[:200]}")
        return attempt.stopped_for or CellRun.CRASHED
    finally:
        attempt.done.set()
        watchdog.join()
        attempt.file_records()
        processes.kill_tree()


def _fresh_records(records: Path, kernel_uid: int | None) -> None:
    shutil.rmtree(records, ignore_errors=True)
    (records / "live").mkdir(parents=True)
    if kernel_uid is not None:
        os.chown(records / "live", kernel_uid, kernel_uid)


def _cell_runs(nb, skipped: dict[int, CellRun], last: int, result: Execution) -> None:
    """What happened to each cell, and how long each that ran took."""
    for index, cell in enumerate(nb.cells):
        if index in skipped:
            result.statuses[index] = skipped[index]
        else:
            result.statuses[index] = CellRun.RAN if index <= last else CellRun.NOT_RUN
        duration = cell.metadata.get("papermill", {}).get("duration")
        if duration is not None:
            result.durations[index] = duration


def run_job(job: dict) -> Execution:
    """Execute the job's notebook, retrying without the cells that failed fatally."""
    import copy

    import nbformat
    from papermill.engines import papermill_engines
    from papermill.iorw import load_notebook_node

    from autograde.grade.support import processes

    processes.become_subreaper()
    limits = Limits(**job["limits"])
    records = Path(job["workdir"]) / "records"
    cwd, client_config = _prepare_kernel(job, limits, Path(job["workdir"]), records)
    papermill_engines.register("autograde", _engine())
    source = load_notebook_node(job["notebook"])
    start = time.monotonic()
    deadline = start + limits.notebook_timeout
    skipped: dict[int, CellRun] = {}
    result = Execution()
    for attempt_number in range(1, limits.attempts + 1):
        nb = copy.deepcopy(source)
        for index, kind in skipped.items():
            nb.cells[index].source = _skip_source(kind)
        _fresh_records(records, job["kernel_uid"])
        attempt = _Attempt(
            records, limits, deadline, writable=[records, cwd] if job["sandbox"] != "bwrap" else [records]
        )
        failure = _run_once(nb, job, limits, attempt, cwd, client_config, result.notes)
        result.attempts = attempt_number
        result.peak_mb = max(result.peak_mb, round(attempt.peak_bytes / 2**20, 1))
        for index in attempt.interrupted:
            if failure is None or index != attempt.current:  # else the interrupt did not stop it: below
                result.notes.append(
                    f"cell {index} {CellRun.TIMEOUT.what_it_did}; it was interrupted and the notebook went on"
                )
            skipped[index] = CellRun.TIMEOUT
        if failure is None:
            break
        if attempt.current < 0:
            result.notes.append("the kernel could not be started")
            break
        if attempt.past_deadline:
            result.notes.append("the notebook did not finish within its time limit")
            skipped[attempt.current] = CellRun.TIMEOUT
            break
        skipped[attempt.current] = failure
        result.notes.append(f"cell {attempt.current} {failure.what_it_did}; it was skipped and the notebook run again")
        if time.monotonic() > deadline:
            break
    _cell_runs(nb, skipped, attempt.current if failure is not None else len(nb.cells) - 1, result)
    result.seconds = time.monotonic() - start
    nbformat.write(nb, job["output"])
    return result


def main(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    result = run_job(job)
    Path(job["workdir"], "execution.json").write_text(json.dumps(asdict(result), indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
