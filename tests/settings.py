"""The test suite's settings: adstudio.settings with development's opt-in, as `make run` has it.

Production is the settings module's default (DEBUG off, HTTPS only); the suite, like a developer, opts in
to DEBUG unless the environment already says otherwise. Servers and commands the tests start inherit it
from os.environ. tests/security/test_production_defaults.py starts the real thing without it.
"""

import os

os.environ.setdefault("DEBUG", "true")

from adstudio.settings import *  # noqa: E402,F403
