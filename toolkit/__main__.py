"""`python -m toolkit` runs the command line.

TensorFlow's native start-up lines are printed as `toolkit` is imported,
before this runs; the `toolkit` command (`python -m toolkit_cli`) hides them too.
"""

import sys

from toolkit.cli import main

sys.exit(main(quiet=True))
