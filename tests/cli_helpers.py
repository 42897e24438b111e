"""Run `python -m bench` in-process: the exit code, stdout and stderr that the real entry point gives.

A subprocess pays Python start-up and `import torch` (3-5 s on the 2-core machine) per call;
`bench.__main__.main` is the same code path minus the interpreter, so CLI tests call it here and
keep one subprocess smoke test per path for `python -m bench` itself.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import warnings

BENCH = [sys.executable, "-m", "bench"]
# `python -m bench` as a terminal starts it: SIGINT unblocked and handled, whatever state the test
# process (which many in-process tests have run in) would otherwise hand down to the child.
INTERACTIVE = (
    "import signal as s; s.pthread_sigmask(s.SIG_UNBLOCK, {s.SIGINT}); s.signal(s.SIGINT, s.default_int_handler)"
)
BENCH_INTERACTIVE = [
    sys.executable,
    "-c",
    f"{INTERACTIVE}; import runpy; runpy.run_module('bench', run_name='__main__')",
]

# Python's default warning filters outside __main__: what a `python -m bench` process would not print.
_HIDDEN = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def bench_main(*argv: str) -> subprocess.CompletedProcess:
    """Call bench's main() with argv; return what `python -m bench ARGV` would (code, stdout, stderr)."""
    from bench.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings(record=True) as seen:
        # pytest captures warnings that a real process prints on stderr: record them and print them
        # there, so that "one line on stderr" is checked as strictly as in a subprocess.
        warnings.simplefilter("default")
        for category in _HIDDEN:
            warnings.simplefilter("ignore", category)
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's own errors exit from parse_args, as in the real process
            code = exc.code
    text = err.getvalue() + "".join(
        warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line) for w in seen
    )
    return subprocess.CompletedProcess(["bench", *argv], code, out.getvalue(), text)


def bench_process(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m bench ARGV` as a real process (for the smoke tests of the entry point itself)."""
    return subprocess.run([*BENCH, *argv], capture_output=True, text=True, timeout=timeout)
