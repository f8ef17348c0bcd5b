"""``python -m nasgym_agents.rl_darts search|retrain|compare``."""

import sys

from .train import main

sys.exit(main())
