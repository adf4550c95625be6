"""``python -m geo`` is the ``geo`` command."""

from geo.cli import main

main()
