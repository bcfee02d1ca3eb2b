"""Entry point for ``python -m docket`` and the ``docket`` console script."""

from docket.commands import main

if __name__ == "__main__":
    main()
