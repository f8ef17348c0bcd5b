"""``python -m nasgym_agents.advantagenas``: standalone search, wall-clock reported."""

import sys

from .standalone import main

sys.exit(main())
