import sys

from swapengine.cli import main

sys.exit(main())
