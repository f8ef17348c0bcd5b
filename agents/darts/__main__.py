"""``python -m nasgym_agents.darts``: a standalone DARTS / GDAS search."""

import sys

from .standalone import main

sys.exit(main())
