"""Docket: a GitOps registry for AI-agent archetypes. The git repository is the database.

Laid out by layer (``docs/architecture.md``): ``core``, ``lifecycles`` and ``verify`` are pure (no
pygit2, click, ruamel, filesystem or clock); ``adapters`` wrap I/O; ``ops`` runs one write as a
transaction; ``commands`` parses arguments and is the only layer that prints; ``demo`` narrates
the CLI. ``tests/unit/test_layers.py`` enforces it.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
