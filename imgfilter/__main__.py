"""``python -m imgfilter``: the same as the ``imgfilter`` command."""

from .cli import main

if __name__ == "__main__":
    main()
