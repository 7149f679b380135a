"""Progress reporting for long CLI steps: a spinner line, plus a log line per milestone."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console


def progress_reporter(console: Console) -> Callable[[str], None]:
    """A callback that logs milestones and skips the noise of Go module downloads."""

    def report(message: str) -> None:
        if message.startswith("go: downloading"):
            return
        if "elapsed" in message and message.startswith("compiling"):
            console.print(f"  {message}", style="dim")
            return
        console.log(message)

    return report
