"""Change-detection workbench: claims + areas of interest -> Sentinel scenes -> change polygons."""

import logging

__version__ = "0.1.0"
ALGORITHM_VERSION = "local-regression/0.2"

logging.getLogger(__name__).addHandler(logging.NullHandler())
