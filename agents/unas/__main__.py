"""``python -m nasgym_agents.unas``: a standalone UNAS search."""

import sys

from .standalone import main

sys.exit(main())
