"""End to end through the core: init, archetype, freeze, publish, verify."""

from tests.support import Registry


def test_freeze_publish_verify(registry: Registry) -> None:
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    registry.ok("package", "publish", "support-triage", "1.0.0")
    result = registry.ok("verify", "--format", "json")
    assert result.json()["ok"] is True
    assert "refs/tags/support-triage/v1.0.0" in registry.refs()
    assert "refs/tags/packages/support-triage/v1.0.0" in registry.refs()
