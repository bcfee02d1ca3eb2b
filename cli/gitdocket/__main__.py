"""Entry point for ``python -m gitdocket`` and the ``gitdocket`` console script."""

from gitdocket.commands import main

if __name__ == "__main__":
    main()
