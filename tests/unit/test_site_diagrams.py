"""Lifecycle diagrams are drawn from the transition tables: every row is in its drawing, and a
change to a table changes the drawing."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from gitdocket.core.documents import RegistryConfig
from gitdocket.lifecycles import LIFECYCLES
from gitdocket.lifecycles.machine import NoData, Transition
from gitdocket.lifecycles.version import LIFECYCLE as VERSION
from gitdocket.site.diagrams import graph, lifecycle_svg, words
from gitdocket.site.stages import stages_svg
from gitdocket.site.timeline import WINDOW, Change, timeline_svg

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _edges(svg: str) -> set[tuple[str, str]]:
    root = ET.fromstring(svg)
    return {
        (g.get("data-from", ""), g.get("data-to", ""))
        for g in root.iter(f"{SVG}g")
        if "docket-edge" in (g.get("class") or "")
    }


@pytest.mark.parametrize("kind", list(LIFECYCLES))
def test_every_row_and_phase_is_drawn(kind: str) -> None:
    machine = LIFECYCLES[kind]
    svg = lifecycle_svg(machine)
    texts = " ".join(_texts(svg))
    for phase in machine.phases:
        assert phase in _texts(svg), phase
    for row in machine.transitions:
        assert words(row) in texts, row.command
        for source in row.sources:
            if row.target not in (None, source):
                assert (source, row.target) in _edges(svg), (row.command, source)


def test_a_new_row_adds_an_arrow_and_a_removed_row_takes_it_away() -> None:
    before = lifecycle_svg(VERSION)
    assert ("retired", "draft") not in _edges(before)
    thaw = Transition("ThawVersion", "version_thawed", ("retired",), "draft", NoData, does="thaw", hint="never")
    grown = dataclasses.replace(VERSION, transitions=(*VERSION.transitions, thaw))
    after = lifecycle_svg(grown)
    assert ("retired", "draft") in _edges(after) and "thaw" in _texts(after)
    shrunk = dataclasses.replace(
        VERSION, transitions=tuple(t for t in VERSION.transitions if t.command != "RetireVersion")
    )
    without = lifecycle_svg(shrunk)
    assert ("frozen", "retired") not in _edges(without) and "retire" not in _texts(without)
    assert before != after != without


def test_rows_that_keep_the_phase_are_listed_in_the_box() -> None:
    g = graph(LIFECYCLES["environment"])
    assert g.stays["active"] == ["promote a bundle", "roll back"]
    assert "↻ roll back" in _texts(lifecycle_svg(LIFECYCLES["environment"]))


def test_the_same_table_draws_the_same_bytes() -> None:
    assert lifecycle_svg(VERSION) == lifecycle_svg(VERSION)


def test_the_timeline_marks_rollbacks_with_their_reasons() -> None:
    changes = [
        Change(1, "2026-01-01T00:00:00Z", "alice", "a-1", False, "go", "staging"),
        Change(2, "2026-01-02T00:00:00Z", "alice", "b-2", False, "conditional-go", "staging"),
        Change(3, "2026-01-03T00:00:00Z", "bob", "a-1", True, reason="<b>canary</b> & errors"),
    ]
    svg = timeline_svg("prod", changes)
    root = ET.fromstring(svg)  # well-formed: the reason is escaped
    kinds = [g.get("data-type") for g in root.iter(f"{SVG}g") if g.get("class") == "docket-event"]
    assert kinds == ["promoted", "promoted", "rolled_back"]
    assert "↺ #3 rolled back: <b>canary</b> & errors" in _texts(svg)
    many = [Change(i, "t", "a", f"b-{i % 3}", False) for i in range(1, 101)]
    shown = [g for g in ET.fromstring(timeline_svg("dev", many)).iter(f"{SVG}g") if g.get("class") == "docket-event"]
    assert len(shown) == WINDOW and shown[-1].get("data-seq") == "100"


def test_the_stage_graph_follows_the_configured_sources() -> None:
    config = RegistryConfig(name="r")
    svg = stages_svg(config.environments, {"prod": "rel-1"})
    root = ET.fromstring(svg)
    stages = [g.get("data-environment") for g in root.iter(f"{SVG}g") if g.get("class") == "docket-stage"]
    assert stages == ["", "preview", "dev", "staging", "prod"]
    assert "rel-1" in _texts(svg) and "prod (gated)" in _texts(svg)
