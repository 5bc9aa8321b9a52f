"""``python -m tinygrad_edu.bench``: run the benchmark from the command line."""

import sys

from . import main

sys.exit(main())
