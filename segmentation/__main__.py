"""``python -m segmentation``: the command line."""

import sys

from segmentation.cli.main import main

sys.exit(main())
