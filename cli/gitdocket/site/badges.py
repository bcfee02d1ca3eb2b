"""Badges: one typed table from a state to what a reader sees — a label, an icon, a tooltip and a
tone (the CSS class). Lifecycle phases, environment states, gate decisions, verification and
guarantee statuses all come from ``BADGES``; the stylesheet (``stylesheet``) is generated from the
same table and from ``ICONS``, so a state cannot be shown without its legend entry.

Labels use the seeds' words where they have them (seed 000's package-distribution and
entitlement phases, seed 001's version phases, seed 002's gate decisions). Icons are tiny SVG
paths drawn as CSS masks (data: URLs): no icon font, no request. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitdocket.site.markup import attr, text

__all__ = ["BADGES", "ICONS", "TONES", "Badge", "Domain", "badge", "legend_rows", "stylesheet"]

Domain = Literal[
    "version",
    "package",
    "distribution",
    "entitlement",
    "run",
    "bundle",
    "environment",
    "decision",
    "check",
    "level",
    "kind",
    "held",
    "tested",
    "verify",
    "archetype",
]
Tone = Literal["ok", "info", "warn", "fail", "muted"]
TONES: dict[Tone, tuple[str, str]] = {
    "ok": ("#1b5e20", "#e8f5e9"),
    "info": ("#0d47a1", "#e3f2fd"),
    "warn": ("#7a4f01", "#fff4e0"),
    "fail": ("#b71c1c", "#ffebee"),
    "muted": ("#424242", "#eeeeee"),
}
"""Tone → (text colour, background). Contrast above 7:1 on both."""


@dataclass(frozen=True)
class Badge:
    label: str
    icon: str
    tooltip: str
    tone: Tone


ICONS: dict[str, str] = {
    "check": "M4 12.5l5 5L20 6.5",
    "cross": "M6 6l12 12M18 6L6 18",
    "pencil": "M4 20h4L19 9l-4-4L4 16z",
    "lock": "M6 11h12v10H6zM8.5 11V7.5a3.5 3.5 0 0 1 7 0V11",
    "box": "M3 7.5l9-4.5 9 4.5-9 4.5zM3 7.5v9l9 4.5 9-4.5v-9M12 12v9",
    "archive": "M3 4h18v4H3zM5 8v12h14V8M10 12h4",
    "ban": "M12 3a9 9 0 1 0 .01 0M5.6 5.6l12.8 12.8",
    "minus": "M5 12h14",
    "clock": "M12 3a9 9 0 1 0 .01 0M12 7v5l3.5 2.5",
    "pause": "M8.5 5v14M15.5 5v14",
    "play": "M7 4.5v15l12-7.5z",
    "undo": "M9 14L4 9l5-5M4 9h10.5a5.5 5.5 0 0 1 0 11H11",
    "up": "M12 20V5M5.5 11.5L12 5l6.5 6.5",
    "warning": "M12 3.5l9.5 17h-19zM12 10v4.5M12 17.5v.5",
    "shield": "M12 3l8 3v6c0 5-3.5 8-8 9.5C7.5 20 4 17 4 12V6z",
    "question": "M9 9a3 3 0 1 1 4.2 2.75c-.7.35-1.2 1-1.2 1.8V15M12 18.5v.5",
    "dot": "M12 8.5a3.5 3.5 0 1 0 .01 0",
    "flag": "M5 21V4M5 4h11l-2 4 2 4H5",
}
"""Icon name → SVG path (24×24, stroked)."""

_B = Badge
BADGES: dict[tuple[Domain, str], Badge] = {
    # seed 001: the agent-version lifecycle
    ("version", "init"): _B("Not drafted", "minus", "no draft has been opened for this version number", "muted"),
    ("version", "draft"): _B("Draft", "pencil", "an editable draft: it may still change", "info"),
    ("version", "frozen"): _B("Frozen", "lock", "an immutable snapshot: nothing about it changes again", "ok"),
    ("version", "packaged"): _B("Packaged", "box", "frozen, and a package references it", "ok"),
    ("version", "retired"): _B("Retired", "archive", "takes no new packages; existing packages keep working", "warn"),
    ("version", "abandoned"): _B("Abandoned", "ban", "the draft was cancelled before it was frozen", "muted"),
    # seed 000: the publish side of package distribution
    ("package", "draft"): _B("Draft", "pencil", "not published", "muted"),
    ("package", "published"): _B("Published", "up", "published: targets may request and admit installs", "ok"),
    ("package", "withdrawn"): _B("Withdrawn", "ban", "no new installs; history and existing installs stay", "warn"),
    # seed 000: the nine phases of one package × one target
    ("distribution", "Draft"): _B("Draft", "pencil", "the package is not published", "muted"),
    ("distribution", "Published"): _B("Published", "up", "published; this target has not asked for it", "info"),
    ("distribution", "InstallRequested"): _B(
        "InstallRequested", "clock", "the holder asked; the target has not installed it yet", "info"
    ),
    ("distribution", "Installed"): _B("Installed", "check", "installed at the target, read-only", "ok"),
    ("distribution", "Disabled"): _B("Disabled", "pause", "installed but disabled: no runs", "warn"),
    ("distribution", "Withdrawn"): _B("Withdrawn", "ban", "the package was withdrawn; the install stays", "warn"),
    ("distribution", "Removed"): _B("Removed", "archive", "the install was removed (history stays)", "muted"),
    ("distribution", "Superseded"): _B("Superseded", "undo", "replaced by an upgrade", "muted"),
    ("distribution", "Denied"): _B("Denied", "cross", "the target refused the install", "fail"),
    # seed 000: deployment entitlement
    ("entitlement", "none"): _B("None", "minus", "no entitlement has been requested", "muted"),
    ("entitlement", "requested"): _B("Requested", "clock", "requested; no authority has activated it", "info"),
    ("entitlement", "active"): _B("Active", "check", "activated by an entitlement authority", "ok"),
    ("entitlement", "suspended"): _B("Suspended", "pause", "suspended: no governed run may start", "warn"),
    ("entitlement", "closed"): _B("Closed", "archive", "closed for good; its history stays", "muted"),
    ("entitlement", "denied"): _B("Denied", "cross", "an authority denied the request", "fail"),
    ("entitlement", "withdrawn"): _B("Withdrawn", "ban", "the install behind it was withdrawn", "muted"),
    # seed 000: run eligibility (installed ∧ entitled, fail-closed)
    ("run", "Active"): _B("Run-eligible", "play", "installed and entitled: a governed run may start", "ok"),
    ("run", "Expired"): _B("Ineligible: Expired", "clock", "the entitlement expired", "fail"),
    ("run", "Blocked"): _B("Ineligible: Blocked", "pause", "the entitlement is suspended or closed", "fail"),
    ("run", "NoActiveEntitlement"): _B(
        "Ineligible: NoActiveEntitlement", "minus", "no authority has activated an entitlement", "fail"
    ),
    ("run", "NotInstalled"): _B("Ineligible: NotInstalled", "minus", "nothing is installed here", "fail"),
    ("run", "Withdrawn"): _B("Ineligible: Withdrawn", "ban", "the package or install was withdrawn", "fail"),
    # seed 002: release bundles and environments
    ("bundle", "none"): _B("Not built", "minus", "no build is recorded", "muted"),
    ("bundle", "built"): _B("Built", "box", "built and signed by a builder; not verified yet", "info"),
    ("bundle", "verified"): _B("Verified", "check", "every checksum verified and recorded: it may be promoted", "ok"),
    ("environment", "empty"): _B("Empty", "minus", "nothing has been promoted here yet", "muted"),
    ("environment", "active"): _B("Active", "check", "running the bundle it was last promoted to", "ok"),
    ("environment", "rolled-back"): _B("Rolled back", "undo", "running an earlier release after a rollback", "warn"),
    ("decision", "go"): _B("go", "check", "the release gate passed", "ok"),
    ("decision", "conditional-go"): _B(
        "conditional-go", "warning", "medium failures within what the profile tolerates", "warn"
    ),
    ("decision", "no-go"): _B("no-go", "cross", "the release gate failed", "fail"),
    ("decision", "none"): _B("ungated", "minus", "promoted without a gate", "muted"),
    ("check", "passed"): _B("passed", "check", "the check passed", "ok"),
    ("check", "failed"): _B("failed", "cross", "the check failed", "fail"),
    ("level", "release-blocking"): _B(
        "release-blocking", "flag", "a high-severity check: any failure is no-go under every profile", "fail"
    ),
    ("level", "bootstrap-ready"): _B(
        "bootstrap-ready", "flag", "a medium-severity check: the transitional profile tolerates a few failures", "warn"
    ),
    # the guarantees (GaugeWright's table, computed instead of typed)
    ("kind", "structural"): _B("structural", "shield", "machine-checked on every event", "info"),
    ("kind", "policy"): _B("policy", "shield", "enforced by the signed policy and configuration", "info"),
    ("kind", "operational"): _B("operational", "shield", "about how operations behave over time", "info"),
    ("held", "held"): _B("held", "check", "gitdocket verify found nothing against it in this registry", "ok"),
    ("held", "violated"): _B("violated", "cross", "gitdocket verify reports a finding against it", "fail"),
    ("tested", "tested"): _B("tested", "check", "test cases that name it passed", "ok"),
    ("tested", "failing"): _B("failing", "cross", "a test case that names it failed", "fail"),
    ("tested", "untested"): _B("untested", "question", "no test case in the evidence names it", "warn"),
    ("tested", "no-evidence"): _B("no test evidence", "minus", "the site was built without a JUnit report", "muted"),
    ("verify", "verified"): _B("Verified", "shield", "gitdocket verify found nothing wrong", "ok"),
    ("verify", "failed"): _B("Verify failed", "warning", "gitdocket verify reports findings", "fail"),
    ("archetype", "none"): _B("Not created", "minus", "the archetype does not exist", "muted"),
    ("archetype", "active"): _B("Active", "check", "the archetype exists and has owners", "ok"),
}


def badge(domain: Domain, state: str | None) -> str:
    """The badge of ``state`` in ``domain`` as inline HTML; an unknown state still shows (muted,
    its own words) rather than vanish."""
    key = state if state is not None else "none"
    found = BADGES.get((domain, key)) or Badge(key, "question", f"unknown {domain} state", "muted")
    return (
        f'<span class="docket-badge docket-badge--{found.tone} docket-icon-{found.icon}" '
        f'title="{attr(found.tooltip)}" data-state="{attr(domain)}:{attr(key)}">{text(found.label)}</span>'
    )


def legend_rows(domain: Domain) -> list[tuple[str, str]]:
    """(badge, tooltip) of every state of ``domain``, in table order."""
    return [(badge(domain, state), text(b.tooltip)) for (d, state), b in BADGES.items() if d == domain]


def _data_url(path: str) -> str:
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' stroke='black' "
        f"stroke-width='2.4' stroke-linecap='round' stroke-linejoin='round'><path d='{path}'/></svg>"
    )
    for plain, encoded in (("%", "%25"), ("<", "%3C"), (">", "%3E"), ("#", "%23"), ('"', "%22")):
        svg = svg.replace(plain, encoded)
    return f'url("data:image/svg+xml,{svg}")'


_BASE_CSS = """\
.docket-badge { display: inline-flex; align-items: center; gap: .3em; padding: .05em .55em .05em .45em;
  border-radius: 1em; font-size: .72rem; font-weight: 600; line-height: 1.6; white-space: nowrap;
  vertical-align: middle; }
.docket-badge::before { content: ""; width: 1em; height: 1em; background: currentColor;
  -webkit-mask: var(--docket-icon) center / contain no-repeat; mask: var(--docket-icon) center / contain no-repeat; }
.docket-banner { border-left: .3rem solid #b71c1c; background: #ffebee; color: #4a0000; padding: .6rem 1rem;
  margin: 0 0 1.2rem; border-radius: .2rem; font-size: .75rem; }
.docket-banner strong { color: #b71c1c; }
.docket-banner ul { margin: .3rem 0 0; }
.docket-ok-line { border-left: .3rem solid #1b5e20; background: #e8f5e9; color: #0b3d12; padding: .4rem 1rem;
  margin: 0 0 1.2rem; border-radius: .2rem; font-size: .75rem; }
.docket-figure { margin: 1rem 0; overflow-x: auto; }
.docket-figure svg { max-width: none; height: auto; font-family: sans-serif; }
.docket-figure figcaption { font-size: .7rem; color: #555; }
.docket-counts { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
.docket-count { border: 1px solid #ddd; border-radius: .3rem; padding: .4rem .9rem; min-width: 7rem; }
.docket-count b { display: block; font-size: 1.2rem; }
"""


def stylesheet() -> str:
    """The site's CSS: the badge and banner rules, one rule per tone and one per icon."""
    tones = [f".docket-badge--{tone} {{ color: {fg}; background: {bg}; }}" for tone, (fg, bg) in sorted(TONES.items())]
    icons = [f".docket-icon-{name} {{ --docket-icon: {_data_url(path)}; }}" for name, path in sorted(ICONS.items())]
    return "\n".join([_BASE_CSS.rstrip("\n"), *tones, *icons]) + "\n"
