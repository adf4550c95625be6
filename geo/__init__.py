"""Change-detection workbench: claims + areas of interest -> Sentinel scenes -> change polygons."""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
