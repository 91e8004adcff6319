"""``python -m imgfilter`` and the ``imgfilter`` command (:func:`run`)."""


def run() -> None:
    """The command line; a Ctrl-C while it is still importing exits 130, without a traceback."""
    try:
        from .cli import main
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    main()


if __name__ == "__main__":
    run()
