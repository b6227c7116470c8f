"""``python -m locator.cli``: the same as the ``locator`` command."""

from locator.cli import main

main()
