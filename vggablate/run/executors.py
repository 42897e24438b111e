"""Executors run trials and hand each one's rows back as it finishes; the local one is the default."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from vggablate.run.trial import Trial

RowsCallback = Callable[[Trial, list[dict]], None]
LabelFn = Callable[[Trial], str]


@dataclass(frozen=True)
class LocalExecutor:
    """Run trials one at a time, each in a fresh process (isolate.py), so timings do not disturb each other."""

    timeout_s: float = 900.0

    def run(self, trials: list[Trial], on_rows: RowsCallback, progress: Progress) -> None:
        """Run every trial in order; a failed trial comes back as an error row."""
        from vggablate.run.execute import run_trial_isolated  # torch: only when trials run, not when a sweep is read

        for trial in trials:
            progress.start(trial)
            rows = run_trial_isolated(trial, timeout_s=self.timeout_s)
            on_rows(trial, rows)
            progress.finish(trial, rows)


class Progress:
    """An overall bar over trials (with ETA) that names the trial in flight; silent when quiet."""

    def __init__(self, total: int, done: int, label: LabelFn, quiet: bool = False) -> None:
        """Open the bar; it is shown only on a terminal and when not quiet."""
        from tqdm.auto import tqdm

        self.label = label
        self.errors = 0
        enabled = not quiet and sys.stderr.isatty()
        self.bar = tqdm(total=total, initial=done, desc="trials", unit="trial", disable=not enabled,
                        dynamic_ncols=True, file=sys.stderr)  # fmt: skip
        self.quiet = quiet
        self.enabled = enabled

    def start(self, trial: Trial) -> None:
        """Show which trial runs now."""
        self.bar.set_postfix_str(self.label(trial), refresh=True)
        if not self.enabled and not self.quiet:
            print(f"  running {self.label(trial)} ...", file=sys.stderr, flush=True)

    def finish(self, trial: Trial, rows: list[dict]) -> None:
        """Advance the bar; report an error row on its own line."""
        failed = [r for r in rows if r.get("error")]
        if failed:
            self.errors += 1
            if not self.quiet:
                self.bar.write(f"  {self.label(trial)}: {failed[0].get('error_type')}: {failed[0]['error']}",
                               file=sys.stderr)  # fmt: skip
        self.bar.update(1)

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()
