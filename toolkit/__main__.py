"""`python -m toolkit` runs the command line.

TensorFlow's native start-up lines are printed as `toolkit` is imported,
before this runs; the `toolkit` command (`python -m toolkit_cli`) hides them too.
"""

import sys

from toolkit.cli import end_at_once_in_a_cluster, main

status = main(quiet=True)
end_at_once_in_a_cluster(status)
sys.exit(status)
