"""The `toolkit` command's entry point: quiets TensorFlow's native logging, then runs `toolkit.cli`.

TensorFlow's C++ start-up lines (the oneDNN notice, the CPU-feature lines,
absl's "All log messages before absl::InitializeLog()") are written straight
to file descriptor 2 while TensorFlow is imported, before any Python setting
can take effect, and `TF_CPP_MIN_LOG_LEVEL` does not silence all of them. So
this module, which imports nothing of TensorFlow or `toolkit` first, passes
the process's standard error through a filter that drops native log lines
and keeps everything else. `--verbose` leaves standard error as it is.

`python -m toolkit_cli` is the same command; `python -m toolkit` works too,
without the filter.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import traceback

# absl/TensorFlow native info and warning lines: "I0000 00:00:1795534796.514455   31197 port.cc:153] ...".
# Errors (E) and fatal lines (F) stay: they may be the only account of a crash.
_NATIVE_LOG_LINE = re.compile(rb"^[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] ")
# A task named alone on a line: the list that follows a native line such as the coordination service's
# "Example stragglers:"; hidden only when that line was.
_NATIVE_TASK_LIST_LINE = re.compile(rb"^/job:\w+/replica:\d+/task:\d+$")
# Native lines logged as errors that are notices: oneDNN's fallback for a dtype it cannot speed up.
_NATIVE_ERROR_NOTICE = re.compile(rb"^E\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] oneDNN supports \w+ only on platforms with")
_NATIVE_NOTICES = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"To enable the following instructions:",  # the second line of cpu_feature_guard's notice
)


def is_native_log_line(line: bytes) -> bool:
    """Whether `line` is TensorFlow's or absl's native information or warning, rather than a message meant for the user."""
    return bool(_NATIVE_LOG_LINE.match(line) or _NATIVE_ERROR_NOTICE.match(line)) or line.startswith(_NATIVE_NOTICES)


def main() -> int:
    """Runs the command line; returns its exit status."""
    quiet = "--verbose" not in sys.argv[1:]
    stop_filtering = _filter_standard_error() if quiet else lambda: None
    try:
        from toolkit.cli import main as cli_main

        status = cli_main(quiet=quiet)
    except Exception:
        if "TF_CONFIG" not in os.environ:
            raise
        traceback.print_exc()  # a bug's traceback, before the process of a cluster ends at once
        status = 1
    finally:
        stop_filtering()
    from toolkit.cli import end_at_once_in_a_cluster

    end_at_once_in_a_cluster(status)
    return status


def _filter_standard_error():
    """Sends file descriptor 2 through a thread that drops native log lines; returns a function that undoes it."""
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward() -> None:
        hidden = False
        with os.fdopen(read_end, "rb") as lines:
            for line in lines:
                hidden = is_native_log_line(line) or (hidden and bool(_NATIVE_TASK_LIST_LINE.match(line.rstrip())))
                if not hidden:
                    os.write(original, line)

    thread = threading.Thread(target=forward, name="toolkit-stderr-filter", daemon=True)
    thread.start()

    def stop() -> None:
        sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe's last writer: the thread reads to the end and stops
        thread.join(timeout=5)
        os.close(original)

    return stop


if __name__ == "__main__":
    sys.exit(main())
