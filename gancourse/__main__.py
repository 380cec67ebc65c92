"""``python -m gancourse`` runs the command line (see ``gancourse.cli``)."""
import sys

from .cli import main

sys.exit(main())
