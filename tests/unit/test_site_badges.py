"""Badges come from one table: every state the lifecycles, the gate and the guarantees can be in
has an entry, and the stylesheet styles every tone and icon the table uses."""

from __future__ import annotations

from typing import get_args

import pytest

from gitdocket.lifecycles import LIFECYCLES
from gitdocket.lifecycles.eligibility import REASONS
from gitdocket.lifecycles.environment import GateDecision
from gitdocket.site.badges import BADGES, ICONS, TONES, badge, stylesheet

LIFECYCLE_DOMAINS = {"version": "version", "package": "package", "entitlement": "entitlement", "bundle": "bundle"}
SEED_DISTRIBUTION = (
    "Draft", "Published", "InstallRequested", "Installed", "Disabled", "Withdrawn", "Removed", "Superseded", "Denied",
)  # fmt: skip
"""Seed 000's nine package-distribution phases, in its words."""


@pytest.mark.parametrize(("domain", "kind"), sorted(LIFECYCLE_DOMAINS.items()))
def test_every_phase_of_a_lifecycle_has_a_badge(domain: str, kind: str) -> None:
    missing = [p for p in LIFECYCLES[kind].phases if (domain, p) not in BADGES]
    assert not missing


@pytest.mark.parametrize(
    ("domain", "states"),
    [
        pytest.param("distribution", SEED_DISTRIBUTION, id="seed-000-distribution-phases"),
        pytest.param("run", ("Active", *REASONS), id="run-verdicts"),
        pytest.param("decision", get_args(GateDecision), id="gate-decisions"),
        pytest.param("environment", ("empty", "active", "rolled-back"), id="environment-states"),
        pytest.param("held", ("held", "violated"), id="guarantee-in-registry"),
        pytest.param("tested", ("tested", "failing", "untested", "no-evidence"), id="guarantee-in-tests"),
        pytest.param("kind", ("structural", "policy", "operational"), id="invariant-kinds"),
    ],
)
def test_every_state_has_a_badge(domain: str, states: tuple[str, ...]) -> None:
    assert [s for s in states if (domain, s) not in BADGES] == []


def test_seed_words_are_the_labels() -> None:
    assert [BADGES["distribution", p].label for p in SEED_DISTRIBUTION] == list(SEED_DISTRIBUTION)
    assert BADGES["version", "frozen"].label == "Frozen"


def test_failures_are_red_and_successes_green() -> None:
    for key in [("held", "violated"), ("tested", "failing"), ("decision", "no-go"), ("verify", "failed")]:
        assert BADGES[key].tone == "fail", key
    for key in [("held", "held"), ("tested", "tested"), ("decision", "go"), ("verify", "verified")]:
        assert BADGES[key].tone == "ok", key


def test_the_stylesheet_styles_every_icon_and_tone_the_table_uses() -> None:
    css = stylesheet()
    for entry in BADGES.values():
        assert entry.icon in ICONS and entry.tone in TONES
        assert f".docket-icon-{entry.icon} {{" in css and f".docket-badge--{entry.tone} {{" in css
    assert "url(" in css and "http" not in css.replace("http://www.w3.org/2000/svg", "")


def test_a_badge_is_one_span_with_its_state() -> None:
    html = badge("version", "retired")
    assert html.startswith('<span class="docket-badge docket-badge--warn docket-icon-archive"')
    assert 'data-state="version:retired"' in html and html.endswith(">Retired</span>")
    unknown = badge("version", "<script>")
    assert "<script>" not in unknown and "docket-badge--muted" in unknown
