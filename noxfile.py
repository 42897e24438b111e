"""nox sessions: tests, lint, demo, benchmarks and the GPU check."""

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def demo(session: nox.Session) -> None:
    session.install("-e", ".")
    session.run("python", "-m", "bench", "run", "--archs", "vgg11,vgg16", *session.posargs)


@nox.session
def benchmarks(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/benchmarks",
        "-n",
        "0",  # timed in one process: pyproject's addopts runs the suite on two workers
        "--benchmark-enable",
        "--benchmark-only",
        "--benchmark-autosave",
        "--benchmark-compare",
        "--benchmark-compare-fail=median:10%",
        *session.posargs,
    )


@nox.session(python=False)
def gpu(session: nox.Session) -> None:
    # Runs in the current interpreter: the GPU machine carries its own torch build.
    session.run("python", "-m", "bench", "gpu-check", *session.posargs)
    session.run("python", "-m", "pytest", "-n", "0", "-m", "gpu", "tests")
