"""``python -m nasgym_agents.radars``: a standalone RADARS search."""

import sys

from .standalone import main

sys.exit(main())
