"""A problem prints as its dotted path and message, as logs and the API show it."""

from __future__ import annotations

from callboard.flows.problems import Problem


def test_a_problem_prints_its_path_and_message() -> None:
    problem = Problem(("nodes", "menu", "options", 1), "unknown node 'nowhere'")
    assert str(problem) == "nodes.menu.options.1: unknown node 'nowhere'"
    assert str(problem.under(("flows", 0))) == "flows.0.nodes.menu.options.1: unknown node 'nowhere'"
    assert str(Problem((), "expected a mapping")) == "(top): expected a mapping"
