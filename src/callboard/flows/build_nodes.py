"""Builds one node of each type from plain data, recording the exits it names for the flow-level checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from callboard.flows.catalog import Catalog
from callboard.flows.model import (
    QUEUE_EXITS,
    BranchCase,
    BranchNode,
    CallbackNode,
    CollectNode,
    CrmNode,
    EnqueueNode,
    HangupNode,
    HoursNode,
    LanguageNode,
    LookupNode,
    MenuNode,
    MenuOption,
    Node,
    PlayNode,
    ReturnNode,
    Say,
    SetNode,
    SubflowNode,
    TransferNode,
    VoicemailNode,
)
from callboard.flows.problems import DataPath
from callboard.flows.reader import Reader, describe, read_say
from callboard.flows.template import PathSyntaxError, Template, ValueTemplate, compile_value, parse_path

__all__ = ["NODE_KEYS", "NodeSite", "build_node"]

DIGITS = "0123456789*#"
MAX_WAIT = 120.0  # seconds a caller is left to press a key
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_SILENCE = Say()

# Per node type: its keys besides `type`, and the keys it requires.
_SPEC = {
    "hours": ("schedule open closed holiday", "open"),
    "menu": ("say options timeout retries invalid_say invalid no_input", "options"),
    "collect": (
        "say variable max_digits min_digits terminator pattern timeout attempts invalid_say next failed",
        "variable next",
    ),
    "branch": ("cases default", "cases default"),
    "set": ("values next", "values next"),
    "language": ("language next", "language next"),
    "lookup": ("method url body timeout into next fallback", "url next fallback"),
    "crm": ("found not_found", "found"),
    "enqueue": ("workflow attributes priority timeout personal_manager " + " ".join(QUEUE_EXITS.values()), "workflow"),
    "callback": (
        "say workflow attributes priority confirm number_say timeout attempts invalid_say next failed",
        "workflow next",
    ),
    "voicemail": ("say workflow max_seconds beep attributes next failed", "workflow next"),
    "transfer": ("to failed", "to"),
    "subflow": ("flow next", "flow"),
    "hangup": ("say", ""),
    "play": ("say next", "say next"),
    "return": ("", ""),
}
NODE_KEYS = {kind: ("type", *keys.split()) for kind, (keys, _) in _SPEC.items()}
_REQUIRED = {kind: tuple(required.split()) for kind, (_, required) in _SPEC.items()}


@dataclass
class NodeSite:
    """One node being built: its data and place, the exits it names, and whether the call can end there."""

    r: Reader
    catalog: Catalog
    name: str
    path: DataPath
    m: dict[Any, Any] = field(default_factory=dict)
    exits: list[tuple[DataPath, str]] = field(default_factory=list)  # where each exit is written, its target
    subflows: list[tuple[DataPath, str]] = field(default_factory=list)
    ends: bool = False  # an exit left out ends the call here (or returns from a subflow)
    required: tuple[str, ...] = ()
    exits_known: bool = False  # a mapping of a known type whose exits could all be read: `exits` is complete

    def exit(self, key: str, *, ends: bool = True) -> str | None:
        """The node named under `key`; when it is absent, `ends` says whether the call may end here."""
        if self.m.get(key) is None:
            if key in self.required:
                self.exits_known = False
            self.ends = self.ends or ends
            return None
        return self.target(self.r.string(self.m, key, self.path), (*self.path, key))

    def target(self, target: str | None, path: DataPath) -> str | None:
        if target is None:
            self.exits_known = False
        else:
            self.exits.append((path, target))
        return target

    def say(self, key: str, default: Say = _SILENCE) -> Say:
        if key not in self.m or self.m[key] is None:
            return default
        return read_say(self.r, self.catalog, self.m[key], (*self.path, key))

    def values(self, key: str) -> ValueTemplate:
        value = self.r.value(self.m.get(key) or {}, (*self.path, key))
        if key in self.m and not isinstance(self.m[key], dict | None):
            self.r.problem((*self.path, key), f"expected a mapping for {key!r}, got {describe(self.m[key])}")
        return value or compile_value({})

    def template(self, key: str) -> Template | None:
        return self.r.template(self.m[key], (*self.path, key), key) if key in self.m else None

    def workflow(self) -> str | None:
        name = self.r.string(self.m, "workflow", self.path)
        return self.r.known(name, (*self.path, "workflow"), self.catalog.workflows, "workflow")

    def variable(self, value: Any, path: DataPath, key: str) -> str | None:
        if not isinstance(value, str) or _VARIABLE.fullmatch(value) is None:
            expected = "a variable name (letters, digits, _ and -)"
            self.r.problem(path, f"expected {expected} for {key!r}, got {describe(value)}")
            return None
        return value

    def priority(self) -> ValueTemplate:
        value = self.m.get("priority", 0)
        path = (*self.path, "priority")
        if isinstance(value, bool) or not isinstance(value, int | str) or (isinstance(value, int) and value < 0):
            expected = "a whole number of at least 0 or a template"
            self.r.problem(path, f"expected {expected} for 'priority', got {describe(value)}")
            value = 0
        return self.r.value(value, path) or compile_value(0)


# --- One builder per node type ----------------------------------------------------------------------------


def _hours(s: NodeSite) -> Node | None:
    schedule = s.r.string(s.m, "schedule", s.path)
    schedule = s.r.known(schedule, (*s.path, "schedule"), s.catalog.schedules, "schedule")
    open_, closed, holiday = s.exit("open"), s.exit("closed"), s.exit("holiday")
    if open_ is None:
        return None
    return HoursNode(s.name, open_, schedule, closed, holiday)


def _menu(s: NodeSite) -> Node | None:
    options: dict[str, MenuOption] = {}
    given = s.m.get("options")
    path = (*s.path, "options")
    if not isinstance(given, dict) or not given:
        s.r.problem(path, f"expected a mapping of digit to node for 'options', got {describe(given)}")
        s.exits_known, given = False, {}
    for key, value in given.items():
        digit = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
        if not isinstance(digit, str) or len(digit) != 1 or digit not in DIGITS:
            s.r.problem((*path, key), f"expected a digit (0-9, * or #) as an option, got {describe(key)}", at_key=True)
            s.exits_known = False
            continue
        option = _option(s, value, (*path, key))
        if option is not None:
            options[digit] = option
    say = s.say("say")
    invalid_say = s.say("invalid_say", MenuNode.invalid_say)
    timeout = s.r.seconds(s.m, "timeout", s.path, 5.0, MAX_WAIT)
    retries = s.r.integer(s.m, "retries", s.path, 2, 0, 10)
    invalid, no_input = s.exit("invalid", ends=False), s.exit("no_input")
    if len(options) != len(given) or not options:
        return None
    return MenuNode(s.name, say, options, timeout, retries, invalid_say, invalid, no_input)


def _option(s: NodeSite, value: Any, path: DataPath) -> MenuOption | None:
    if isinstance(value, str) and value:
        return MenuOption(value) if s.target(value, path) else None
    m = s.r.mapping(value, path, "a menu option (a node name or {next, set})", ("next", "set"), required=("next",))
    if m is None:
        s.exits_known = False
        return None
    target = s.target(s.r.string(m, "next", path), (*path, "next"))
    values = s.r.values(m, "set", path)
    _check_language_values(s, m.get("set"), (*path, "set"))
    return MenuOption(target, values) if target is not None else None


def _check_language_values(s: NodeSite, given: Any, path: DataPath) -> None:
    language = given.get("language") if isinstance(given, dict) else None
    if isinstance(language, str) and "{{" not in language:
        s.r.known(language, (*path, "language"), s.catalog.languages, "language")


def _collect(s: NodeSite) -> Node | None:
    variable = s.variable(s.m.get("variable"), (*s.path, "variable"), "variable") if "variable" in s.m else None
    max_digits = s.r.integer(s.m, "max_digits", s.path, 32, 1, 32)
    min_digits = s.r.integer(s.m, "min_digits", s.path, 1, 1, 32)
    if min_digits > max_digits:
        s.r.problem((*s.path, "min_digits"), f"'min_digits' ({min_digits}) is more than 'max_digits' ({max_digits})")
    terminator = s.r.choice(s.m, "terminator", s.path, ("#", "*", ""), "#")
    pattern = None
    if "pattern" in s.m:
        source = s.r.string(s.m, "pattern", s.path)
        try:
            pattern = re.compile(source) if source is not None else None
        except re.error as exc:
            s.r.problem((*s.path, "pattern"), f"bad pattern: {exc.msg} at position {exc.pos}")
    say, invalid_say = s.say("say"), s.say("invalid_say", CollectNode.invalid_say)
    timeout = s.r.seconds(s.m, "timeout", s.path, 5.0, MAX_WAIT)
    attempts = s.r.integer(s.m, "attempts", s.path, 3, 1, 10)
    next_, failed = s.exit("next"), s.exit("failed")
    if variable is None or next_ is None:
        return None
    limits = (max_digits, min_digits, terminator, pattern, timeout, attempts)
    return CollectNode(s.name, say, variable, next_, *limits, invalid_say=invalid_say, failed=failed)


def _branch(s: NodeSite) -> Node | None:
    given = s.m.get("cases")
    path = (*s.path, "cases")
    if not isinstance(given, list):
        s.r.problem(path, f"expected a list of {{when, next}} for 'cases', got {describe(given)}")
        s.exits_known, given = False, []
    cases: list[BranchCase] = []
    for index, case in enumerate(given):
        m = s.r.mapping(case, (*path, index), "a case", ("when", "next"), required=("when", "next"))
        if m is None:
            s.exits_known = False
            continue
        when = s.r.expression(m["when"], (*path, index, "when"), "when") if "when" in m else None
        target = s.target(s.r.string(m, "next", (*path, index)), (*path, index, "next"))
        if when is not None and target is not None:
            cases.append(BranchCase(when, target))
    default = s.exit("default")
    if default is None or len(cases) != len(given):
        return None
    return BranchNode(s.name, tuple(cases), default)


def _set(s: NodeSite) -> Node | None:
    values = s.r.values(s.m, "values", s.path)
    _check_language_values(s, s.m.get("values"), (*s.path, "values"))
    next_ = s.exit("next")
    return SetNode(s.name, values, next_) if next_ is not None else None


def _language(s: NodeSite) -> Node | None:
    language = s.template("language")
    if language is not None and language.is_constant:
        s.r.known(language.source, (*s.path, "language"), s.catalog.languages, "language")
    next_ = s.exit("next")
    if language is None or next_ is None:
        return None
    return LanguageNode(s.name, language, next_, frozenset(s.catalog.languages))


def _lookup(s: NodeSite) -> Node | None:
    method = s.r.choice(s.m, "method", s.path, ("GET", "POST"), "GET")
    url = s.template("url")
    if url is not None and not url.source.startswith(("{{", "http://", "https://")):
        s.r.problem((*s.path, "url"), f"expected an http:// or https:// URL for 'url', got {url.source!r}")
    body = None
    if "body" in s.m and method != "POST":
        s.r.problem((*s.path, "body"), "'body' is sent only with method POST")
    elif "body" in s.m:
        body = s.r.value(s.m["body"], (*s.path, "body"))
    timeout = s.r.seconds(s.m, "timeout", s.path, 3.0, 30.0)
    into: dict[str, tuple[str | int, ...]] = {}
    given = s.m.get("into") or {}
    if not isinstance(given, dict):
        s.r.problem((*s.path, "into"), f"expected a mapping of variable to path for 'into', got {describe(given)}")
        given = {}
    for variable, source in given.items():
        at = (*s.path, "into", variable)
        if s.variable(variable, at, "into") is None:
            continue
        try:
            into[variable] = parse_path(source) if isinstance(source, str) else ()
        except PathSyntaxError as exc:
            s.r.problem(at, f"bad path at column {exc.column}: expected {exc.expected}")
        if not isinstance(source, str):
            s.r.problem(at, f"expected a path in the reply (like items[0].id), got {describe(source)}")
    next_, fallback = s.exit("next"), s.exit("fallback")
    if url is None or next_ is None or fallback is None:
        return None
    return LookupNode(s.name, url, next_, fallback, method, body, timeout, into)


def _crm(s: NodeSite) -> Node | None:
    found = s.exit("found")
    not_found = s.exit("not_found", ends=False) or found
    return CrmNode(s.name, found, not_found) if found is not None and not_found is not None else None


def _enqueue(s: NodeSite) -> Node | None:
    workflow = s.workflow()
    attributes, priority = s.values("attributes"), s.priority()
    timeout = s.r.integer(s.m, "timeout", s.path, 0, 1, 7 * 86_400) or None
    personal_manager = s.r.boolean(s.m, "personal_manager", s.path, False)
    exits = {outcome: target for outcome, key in QUEUE_EXITS.items() if (target := s.exit(key)) is not None}
    if workflow is None:
        return None
    return EnqueueNode(s.name, workflow, attributes, priority, timeout, personal_manager, exits)


def _callback(s: NodeSite) -> Node | None:
    workflow = s.workflow()
    attributes, priority = s.values("attributes"), s.priority()
    say = s.say("say")
    confirm = s.r.boolean(s.m, "confirm", s.path, True)
    number_say = s.say("number_say", CallbackNode.number_say)
    invalid_say = s.say("invalid_say", CallbackNode.invalid_say)
    timeout = s.r.seconds(s.m, "timeout", s.path, 5.0, MAX_WAIT)
    attempts = s.r.integer(s.m, "attempts", s.path, 3, 1, 10)
    next_, failed = s.exit("next"), s.exit("failed")
    if workflow is None or next_ is None:
        return None
    return CallbackNode(
        s.name, say, workflow, attributes, next_, priority, confirm, number_say, timeout, attempts, invalid_say, failed
    )


def _voicemail(s: NodeSite) -> Node | None:
    workflow = s.workflow()
    say, attributes = s.say("say"), s.values("attributes")
    max_seconds = s.r.integer(s.m, "max_seconds", s.path, 120, 5, 3600)
    beep = s.r.boolean(s.m, "beep", s.path, True)
    next_, failed = s.exit("next"), s.exit("failed", ends=False)
    if workflow is None or next_ is None:
        return None
    return VoicemailNode(s.name, say, workflow, attributes, next_, max_seconds, beep, failed)


def _transfer(s: NodeSite) -> Node | None:
    to = s.template("to")
    valid = to is None or not to.is_constant or _E164.fullmatch(to.source) or to.source.startswith(("sip:", "sips:"))
    if not valid and to is not None:
        expected = "an E.164 number (+14155550100) or a SIP URI"
        s.r.problem((*s.path, "to"), f"expected {expected} for 'to', got {to.source!r}")
    failed = s.exit("failed")
    s.ends = True  # a transfer that connects ends the flow
    return TransferNode(s.name, to, failed) if to is not None else None


def _subflow(s: NodeSite) -> Node | None:
    flow = s.r.string(s.m, "flow", s.path)
    if flow is not None:
        s.subflows.append(((*s.path, "flow"), flow))
    next_ = s.exit("next")
    s.ends = True  # the flow it runs may end the call
    return SubflowNode(s.name, flow, next_) if flow is not None else None


def _hangup(s: NodeSite) -> Node | None:
    s.ends = True
    return HangupNode(s.name, s.say("say"))


def _return(s: NodeSite) -> Node | None:
    s.ends = True  # a subflow returns; a flow a number runs ends the call
    return ReturnNode(s.name)


def _play(s: NodeSite) -> Node | None:
    say, next_ = s.say("say"), s.exit("next")
    return PlayNode(s.name, say, next_) if next_ is not None and say else None


_BUILDERS: dict[str, Callable[[NodeSite], Node | None]] = {
    "hours": _hours,
    "menu": _menu,
    "collect": _collect,
    "branch": _branch,
    "set": _set,
    "language": _language,
    "lookup": _lookup,
    "crm": _crm,
    "enqueue": _enqueue,
    "callback": _callback,
    "voicemail": _voicemail,
    "transfer": _transfer,
    "subflow": _subflow,
    "hangup": _hangup,
    "play": _play,
    "return": _return,
}


def build_node(s: NodeSite, data: Any) -> Node | None:
    """The node, or None when it has a problem that leaves it unusable (all of them reported in `s.r`)."""
    if not isinstance(data, dict):
        s.r.problem(s.path, f"expected a mapping for node {s.name!r}, got {describe(data)}")
        return None
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in NODE_KEYS:
        if "type" not in data:
            s.r.problem(s.path, f"missing required key 'type' in node {s.name!r}; types: {', '.join(NODE_KEYS)}")
        else:
            s.r.problem((*s.path, "type"), f"unknown node type {describe(kind)}; types: {', '.join(NODE_KEYS)}")
        return None
    count, s.exits_known, s.required = len(s.r.problems), True, _REQUIRED[kind]
    s.m = s.r.mapping(data, s.path, f"{kind} node {s.name!r}", NODE_KEYS[kind], _REQUIRED[kind]) or {}
    node = _BUILDERS[kind](s)
    return node if len(s.r.problems) == count else None
