"""``python -m nasgym`` runs the command line."""

import sys

from nasgym.cli import main

sys.exit(main())
