"""The progress of a running build, told one line per job as Snakemake reports it."""

from __future__ import annotations

import sys
import time


class Progress:
    """Prints one line per job started or finished: counts, what runs, elapsed time.

    Also keeps what the build's summary needs: jobs done, the failed rules, the
    failures' summaries, and whether Snakemake found everything up to date.

    Parameters
    ----------
    stream : file
        Where the lines go.
    """

    def __init__(self, stream=sys.stdout):
        self.stream = stream
        self.t0 = time.monotonic()
        self.total = None
        self.done = 0
        self.running: dict[str, float] = {}
        self.failures: list[str] = []
        self.failed_rules: list[str] = []
        self.up_to_date = False

    def _say(self, text: str) -> None:
        elapsed = time.monotonic() - self.t0
        total = "?" if self.total is None else self.total
        running = ", ".join(self.running) or "-"
        print(
            f"[{self.done}/{total} done, {elapsed:5.1f}s] {text}  | running: {running}",
            file=self.stream,
            flush=True,
        )

    def __call__(self, event) -> None:
        """Take one :class:`compendium.build.orchestrate.Event`."""
        if event.kind == "planned" and self.total is None:
            self.total = event.total
        elif event.kind == "started":
            self.running[event.job.label] = time.monotonic()
            self._say(f"start  {event.job.label}")
        elif event.kind == "finished":
            started = self.running.pop(event.job.label, time.monotonic())
            self.done += 1
            self._say(f"done   {event.job.label} ({time.monotonic() - started:.1f}s)")
        elif event.kind == "progress":
            self.done, self.total = event.done, event.total
        elif event.kind == "failed":
            self.failed_rules.append(event.job.rule)
        elif event.kind == "failure-summary":
            self.failures.append(event.text)
        elif event.kind == "up-to-date":
            self.up_to_date = True
