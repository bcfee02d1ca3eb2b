"""Docket: a GitOps registry for AI-agent archetypes. The git repository is the database.

The pure core (``log``, ``lifecycles``, ``policy``, ``authz``, ``verify``, ``scopes``) imports no
I/O: no pygit2, click, ruamel, filesystem or clock. Adapters (``store``, ``signing``, ``files``)
wrap I/O; ``commands`` only parses arguments and prints.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
