"""The version a freeze is compared with (its recorded ``baseline``, ADR 0028) is the newest
frozen version below it, found without reading every version; a stray entry among the versions
is refused by name, and the repository is left as it was."""

from __future__ import annotations

from tests.integration.forgery import Forger, published_registry
from tests.support import Registry, repo_state


def _baseline(reg: Registry, version: str) -> str | None:
    state = reg.ok("version", "show", "support-triage", version, "--format", "json").json()
    baseline: str | None = state["snapshot"].get("baseline")
    return baseline


def test_the_baseline_is_the_newest_frozen_version_below(registry: Registry) -> None:
    published = published_registry(registry)  # 1.0.0 frozen
    published.ok("version", "draft", "support-triage", "1.1.0")  # below 1.2.0, but not frozen
    published.ok("version", "freeze", "support-triage", "1.2.0")
    assert _baseline(published, "1.0.0") is None
    assert _baseline(published, "1.2.0") == "1.0.0"
    published.ok("version", "freeze", "support-triage", "1.3.0")
    assert _baseline(published, "1.3.0") == "1.2.0"


def test_a_stray_entry_among_the_versions_is_named(registry: Registry) -> None:
    published = published_registry(registry)
    forger = Forger(published)
    forger.write("registry/versions/support-triage/NOTES.md", b"# notes\n")
    forger.commit("notes")
    before = repo_state(published)
    result = published.run("version", "freeze", "support-triage", "1.1.0")
    assert result.code == 2, result.err
    assert result.err.startswith("error: registry/versions/support-triage/NOTES.md: not a version's folder"), result.err
    assert "hint: remove it" in result.err and "internal error" not in result.err
    assert repo_state(published) == before
