"""Entry point for ``python -m gitdocket`` and the ``gitdocket`` console script."""

from gitdocket.core.collector import lifelong


def main() -> None:
    """Import the CLI (click, pygit2, pydantic and the command table) out of the cyclic
    collector's way, then run it: what an import builds lives to the end (``lifelong``)."""
    with lifelong():
        from gitdocket.commands import main as run
    run()


if __name__ == "__main__":
    main()
