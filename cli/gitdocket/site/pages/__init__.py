"""The pages of the site, one module per family: ``home`` (home, verification), ``catalog``
(archetypes, versions, the fork tree), ``distribution`` (packages, projects), ``releases``
(environments, bundles, the release gate), ``trust`` (the policy) and ``rules`` (guarantees,
lifecycles, badges). Each exposes ``pages(view) -> list[Page]``; ``common`` holds what they share.
Pure.
"""
