"""``python -m parkgeo``: the same as the ``parkgeo`` command."""

import sys

from parkgeo.cli import main

sys.exit(main())
