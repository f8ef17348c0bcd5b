"""``python -m agents.advantagenas``: a standalone search with a wall-clock report."""

import sys

from agents.advantagenas.standalone import main

sys.exit(main())
