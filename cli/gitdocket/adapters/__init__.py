"""Adapters: every I/O docket does — the git store, three-way merges, signing backends, files and
YAML, bundle bytes and archives, the verify runner's second process, the packaged templates."""
