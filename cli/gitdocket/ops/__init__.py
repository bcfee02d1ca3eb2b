"""Operations: what each CLI command does to the registry, as functions of a ``Transaction``.

Each operation loads scopes, applies lifecycle commands and stages extra files; the caller runs
it inside ``Session.write`` so it becomes one signed, atomic commit. No printing here.
"""
