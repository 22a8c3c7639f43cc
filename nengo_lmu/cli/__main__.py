"""``python -m nengo_lmu.cli``: the ``nengo-lmu`` command line."""

import sys

from nengo_lmu.cli import main

sys.exit(main())
