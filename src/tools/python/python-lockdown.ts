/*
 * Python run once in each freshly loaded interpreter, before any program: it drops the modules that
 * reach the host (Pyodide's `js` / `pyodide_js` bridges and FFI) or the outside (processes, sockets,
 * native memory), blocks their re-import with a meta-path finder, removes the process calls from `os`,
 * reseeds `random`, and defines the runner that executes a program and reports on it as JSON. This is
 * the first layer only: Python cannot be sandboxed from inside itself, so the worker also strips its
 * own JavaScript realm (python-worker.ts), and that is what holds if a program gets past this.
 */

/** Top-level modules a program may not import. */
export const BLOCKED_MODULES = [
  "js",
  "pyodide_js",
  "pyodide",
  "_pyodide",
  "_pyodide_core",
  "micropip",
  "ctypes",
  "_ctypes",
  "subprocess",
  "_posixsubprocess",
  "multiprocessing",
  "socket",
  "_socket",
  "ssl",
  "select",
  "selectors",
  "http",
  "ftplib",
  "smtplib",
  "urllib.request",
  "webbrowser",
  "signal",
  "_signal",
  "mmap",
  "fcntl",
  "termios",
  "_testcapi",
  "_testinternalcapi",
  "_testlimitedcapi",
  "_testbuffer",
  "_remote_debugging",
] as const;

/** `os` / `posix` functions that start, replace or signal processes. */
const REMOVED_OS_FUNCTIONS = [
  "system",
  "popen",
  "fork",
  "forkpty",
  "vfork",
  "execv",
  "execve",
  "execl",
  "execle",
  "execlp",
  "execlpe",
  "execvp",
  "execvpe",
  "spawnv",
  "spawnve",
  "spawnl",
  "spawnle",
  "spawnlp",
  "spawnlpe",
  "spawnvp",
  "spawnvpe",
  "posix_spawn",
  "posix_spawnp",
  "kill",
  "killpg",
];

export const LOCKDOWN_SOURCE = `
import sys, os, posix, ast, json, traceback, builtins

def _lockdown():
    blocked = frozenset(${JSON.stringify(BLOCKED_MODULES)})
    def is_blocked(name):
        parts = name.split(".")
        return any(".".join(parts[:i]) in blocked for i in range(1, len(parts) + 1))

    class SandboxImportBlocker:
        def find_spec(self, name, path=None, target=None):
            if is_blocked(name):
                raise ImportError(f"import of {name!r} is not allowed in the sandbox")
            return None

    for name in list(sys.modules):
        if is_blocked(name):
            del sys.modules[name]
    # Pyodide's JsFinder serves the js bridges; without it they cannot come back even if the blocker goes.
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "JsFinder"]
    sys.meta_path.insert(0, SandboxImportBlocker())
    for module in (os, posix):
        for attr in ${JSON.stringify(REMOVED_OS_FUNCTIONS)}:
            if hasattr(module, attr):
                delattr(module, attr)
    sys.setrecursionlimit(1000)
    # Pyodide imports random at start-up, so an interpreter restored from the process's memory snapshot
    # would otherwise repeat the snapshot's sequence in every run.
    import random
    random.seed()

_lockdown()
del _lockdown

def _deliberate_run(source, limit):
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    result = error = trace = None
    try:
        tree = ast.parse(source, "program.py", "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, "program.py", "exec"), namespace)
        if last is not None:
            value = eval(compile(last, "program.py", "eval"), namespace)
            if value is not None:
                result = repr(value)[:limit]
    except BaseException as exception:
        error = "".join(traceback.format_exception_only(type(exception), exception)).strip()[:limit]
        # Drop this runner's own frame: the program's frames are what its author can act on.
        frames = traceback.extract_tb(exception.__traceback__)[1:]
        trace = ("Traceback (most recent call last):\\n" + "".join(traceback.format_list(frames)) + error)[:limit]
    sys.stdout.flush()
    sys.stderr.flush()
    return json.dumps({"result": result, "error": error, "traceback": trace})
`;
