"""``python -m nasgym_agents.pruning``: one pruning run, wall-clock reported."""

import sys

from .standalone import main

sys.exit(main())
