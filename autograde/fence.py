"""The fence: the course's own implementations may not answer a graded exercise.

The student-facing package ships working code (TinyGPT's RMSNorm, RoPE and blocks, the training
schedule, the visible checks' helpers). While a probe runs the student's code, any execution of a
fenced function is recorded, whatever name, import, alias or process reached it, and the judge
fails the record.

How, cheaply on every Python version: each fenced function's code is swapped for a *tripwire*, a
two-line body that notes the call and runs the original. Nothing traces the student's own code,
so pure-Python exercises run at full speed. Fenced modules are fenced as they execute, however
they are loaded (first import, `importlib.reload`, a second copy). Python processes the kernel
starts are fenced too (`autograde/boot/sitecustomize.py`, on their PYTHONPATH) and report their calls
through a log next to the records. An audit hook (which no Python code can remove) notices
attempts to restore a fenced function's code, to undo the loader's fencing, to execute a fenced
file's code some other way or to start a process without the fence; the probe that is running
(or the next one) fails, and the fence is put back.

In a grading run every kernel starts fenced; elsewhere (a notebook run by hand) the first probe
installs the fence.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# Modules whose functions implement graded exercises (later modules add their helpers here).
FENCED_MODULES = ("course.models", "course.train", "course.checks")
# Names there that compute no exercise's answer: a graded function may use them.
FREE = {"course.models": ("encode", "decode", "load_pretrained", "checkpoint", "TinyGPTConfig")}
BOOT = Path(__file__).parent / "boot"  # on the PYTHONPATH of every grading kernel and its children
RECORD_DIR_ENV = "AUTOGRADE_RECORD_DIR"  # the grader's record folder: set in grading runs only
LOG_NAME = "fence.log"  # in the record folder: fenced calls made by the kernel's child processes


@dataclass
class _State:
    watching: bool = False
    allowed: tuple[str, ...] = ()
    hits: set[str] = field(default_factory=set)
    tampering: list[str] = field(default_factory=list)
    tripwires: dict[types.FunctionType, types.CodeType] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)  # source files of the fenced modules
    loading: int = 0  # > 0 while the fence's own loader executes a fenced module
    installed_by: int | None = None  # the process that installed the fence
    log: Path | None = None


_state = _State()
_loader_exec_module = importlib.machinery.SourceFileLoader.exec_module


def _template(n_free: int) -> types.CodeType:
    """The tripwire's code, with `n_free` free variables (a function's code can only be swapped
    for code with as many): `enter = <constant>; return enter(args, kwargs)`."""
    names = [f"_free{i}" for i in range(n_free)]
    source = (
        "def outer():\n"
        + "".join(f"    {n} = None\n" for n in names)
        + "    def tripwire(*args, **kwargs):\n"
        + (f"        if False:\n            ({', '.join(names)},)\n" if names else "")
        + "        enter = 'ENTER'\n        return enter(args, kwargs)\n    return tripwire\n"
    )
    namespace: dict = {}
    exec(compile(source, "<course fence>", "exec"), namespace)
    return namespace["outer"]().__code__


def _note(key: str, state: _State) -> None:
    if os.getpid() != state.installed_by:  # a child process: its parent reads the log
        if state.log is not None:
            with open(state.log, "a") as log:
                log.write(key + "\n")
    elif state.watching and not key.startswith(state.allowed or ("\0",)):
        state.hits.add(key)


def _tripwire(function: types.FunctionType, key: str, state: _State) -> types.CodeType:
    original = types.FunctionType(
        function.__code__, function.__globals__, function.__name__, function.__defaults__, function.__closure__
    )
    original.__kwdefaults__ = function.__kwdefaults__
    original.__qualname__ = function.__qualname__

    def enter(args: tuple, kwargs: dict) -> object:
        _note(key, state)
        return original(*args, **kwargs)

    code = _template(len(function.__code__.co_freevars))
    consts = tuple(enter if c == "ENTER" else c for c in code.co_consts)
    names = {"co_name": function.__name__}
    if sys.version_info >= (3, 11):
        names["co_qualname"] = function.__qualname__
    return code.replace(co_consts=consts, **names)


def _functions(module: types.ModuleType) -> Iterator[tuple[str, types.FunctionType]]:
    """(display name, function) for every function and method defined in `module`, free names left out."""
    free = FREE.get(module.__name__, ())
    for name, obj in list(vars(module).items()):
        if name in free or getattr(obj, "__module__", None) != module.__name__:
            continue
        if isinstance(obj, types.FunctionType):
            yield f"{module.__name__}.{name}", obj
        elif isinstance(obj, type):
            for member in vars(obj).values():
                parts = (member, getattr(member, "__func__", None), getattr(member, "fget", None))
                for part in parts:
                    if isinstance(part, types.FunctionType):
                        yield f"{module.__name__}.{name}", part


def _fence(module: types.ModuleType) -> None:
    for key, function in _functions(module):
        if function not in _state.tripwires:
            _state.tripwires[function] = _tripwire(function, key, _state)
            _state.loading += 1
            function.__code__ = _state.tripwires[function]
            _state.loading -= 1
    if getattr(module, "__file__", None):
        _state.files.add(str(Path(module.__file__).resolve()))


def _fenced(name: str, path: str | None) -> bool:
    return any(name == m or name.startswith(m + ".") for m in FENCED_MODULES) or (
        path is not None and str(Path(path).resolve()) in _state.files
    )


def _exec_module(loader: importlib.machinery.SourceFileLoader, module: types.ModuleType) -> None:
    """The source loader, fencing a fenced module as it executes (an import, a reload, a copy)."""
    fenced = _fenced(module.__name__, loader.path)
    _state.loading += fenced
    try:
        _loader_exec_module(loader, module)
    finally:
        _state.loading -= fenced
    if fenced:
        _fence(module)


def _starts_unfenced(args: tuple) -> bool:
    """A subprocess.Popen audit event (executable, args, cwd, env) whose environment drops the fence."""
    env = args[3] if len(args) > 3 else None
    return env is not None and str(BOOT) not in str(dict(env).get("PYTHONPATH", b"" if isinstance(env, bytes) else ""))


def _audit(event: str, args: tuple) -> None:
    if _state.loading:
        return
    if event in ("object.__setattr__", "object.__delattr__"):
        target, name = args[0], args[1]
        if name == "__code__" and target in _state.tripwires:
            _state.tampering.append(f"replaced the code of {target.__qualname__}")
        elif isinstance(target, type) and issubclass(target, importlib.machinery.SourceFileLoader):
            _state.tampering.append(f"modified the module loader ({name})")
    elif event == "exec" and isinstance(args[0], types.CodeType):
        if str(Path(args[0].co_filename).resolve()) in _state.files:
            _state.tampering.append(f"executed {Path(args[0].co_filename).name} outside the fence")
    elif event == "subprocess.Popen" and _state.watching and _starts_unfenced(args):
        _state.tampering.append("started a process without the grading environment")


def install() -> None:
    """Fence the fenced modules already imported and every one imported later. Idempotent.

    In a child of a grading kernel (the log is inherited, the installer is another process) every
    fenced call goes to the log, which the kernel reads when its probe ends."""
    if _state.installed_by is not None:
        return
    _state.installed_by = int(os.environ.get("AUTOGRADE_FENCE_PID", os.getpid()))
    if os.environ.get(RECORD_DIR_ENV):
        _state.log = Path(os.environ[RECORD_DIR_ENV]) / LOG_NAME
        os.environ["AUTOGRADE_FENCE_PID"] = str(_state.installed_by)  # inherited: children log
    for name, module in list(sys.modules.items()):
        if module is not None and _fenced(name, None):
            _fence(module)
    importlib.machinery.SourceFileLoader.exec_module = _exec_module
    sys.addaudithook(_audit)


def _rearm() -> list[str]:
    """Put back what the student's code undid without the audit hook seeing it; say what it was."""
    undone = []
    _state.loading += 1
    for function, code in _state.tripwires.items():
        if function.__code__ is not code:
            undone.append(f"restored {function.__qualname__}")
            function.__code__ = code
    if importlib.machinery.SourceFileLoader.exec_module is not _exec_module:
        undone.append("replaced the module loader")
        importlib.machinery.SourceFileLoader.exec_module = _exec_module
    _state.loading -= 1
    return undone


def _child_hits() -> list[str]:
    """Fenced calls logged by child processes since the last read (the log is emptied)."""
    if _state.log is None or not _state.log.exists():
        return []
    lines = _state.log.read_text().split()
    _state.log.write_text("")
    return lines


@dataclass
class Watch:
    """What one run of the student's code did: fenced functions it executed, ways it defeated the fence."""

    hits: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)


@contextmanager
def watching(allowed: tuple[str, ...] = ()) -> Iterator[Watch]:
    """Record fenced calls while the block runs, except those whose name starts with one of `allowed`.
    Tampering noticed since the last watch (at a cell's top level, say) is this watch's."""
    install()
    watch = Watch()
    _child_hits()  # calls made before this probe are not its own
    _state.hits.clear()
    _state.watching, _state.allowed = True, allowed
    try:
        yield watch
    finally:
        _state.watching, _state.allowed = False, ()
        children = [key for key in _child_hits() if not key.startswith(allowed or ("\0",))]
        watch.hits = sorted({*_state.hits, *children})
        watch.tampering = sorted({*_state.tampering, *_rearm()})
        _state.tampering.clear()
