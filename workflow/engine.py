"""A small table-driven state machine engine.

A workflow is data: states and a table of transitions (source, target, who may fire it, guards,
required inputs), in the manner of django-oscar's order-status pipeline. A guard is a function of
(case, context) returning None when satisfied or a human-readable reason in Chinese. The engine only
*evaluates*; `workflow.services.case_transition` is the one place that changes a case's stage.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Guard = Callable[[Any, "GuardContext"], str | list[str] | None]


@dataclass(frozen=True)
class Input:
    """A value the user must (or may) provide when firing a transition."""

    name: str
    label: str
    kind: str = "text"  # text | date | file
    required: bool = True


@dataclass
class GuardContext:
    user: Any
    inputs: dict = field(default_factory=dict)
    today: Any = None
    # What guards computed for this evaluation, by key, so a page that shows more of it (the case page's
    # 持续跟踪监测 note reads the elimination rules) does not compute it again.
    memo: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]
    level: int | None = None  # the division level the actor must work at (None: any in scope)
    guards: tuple[Guard, ...] = ()
    inputs: tuple[Input, ...] = ()
    # A short verb shown on the button; the label names the step in the timeline.
    button: str = ""
    style: str = "primary"  # primary | danger | secondary
    bulk: bool = False  # may be fired on many cases at once from a queue
    # Called inside the transition's transaction after the stage moved: (case, context, event).
    effect: Callable[[Any, GuardContext, Any], None] | None = None

    @property
    def button_text(self) -> str:
        return self.button or self.label


@dataclass(frozen=True)
class Workflow:
    name: str
    label: str
    states: dict[str, str]  # code → Chinese label
    transitions: tuple[Transition, ...]

    def __post_init__(self):
        names = [t.name for t in self.transitions]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.name}: duplicate transition names")
        for transition in self.transitions:
            unknown = {*transition.sources, transition.target} - set(self.states)
            if unknown:
                raise ValueError(f"{self.name}.{transition.name}: unknown states {unknown}")

    def get(self, name: str) -> Transition:
        for transition in self.transitions:
            if transition.name == name:
                return transition
        raise KeyError(name)

    def from_state(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def roles_at(self, state: str) -> frozenset[str]:
        """The roles that may act on a case in `state` (those of every transition from it): whom it waits on."""
        return frozenset().union(*(t.roles for t in self.from_state(state)))

    def main_path(self, start: str) -> list[str]:
        """The states a case passes through from `start` when every step goes forward — each state's first
        primary transition — up to the state no primary transition leaves (not included)."""
        path: list[str] = []
        state = start
        while state not in path:
            forward = next((t for t in self.from_state(state) if t.style == "primary"), None)
            if forward is None:
                break
            path.append(state)
            state = forward.target
        return path


@dataclass
class Availability:
    transition: Transition
    reasons: list[str]

    @property
    def allowed(self) -> bool:
        return not self.reasons


def missing_inputs(transition: Transition, inputs: dict) -> list[str]:
    reasons = []
    for spec in transition.inputs:
        value = inputs.get(spec.name)
        if spec.required and (value is None or (isinstance(value, str) and not value.strip())):
            reasons.append(f"请填写“{spec.label}”。")
    return reasons


def evaluate(
    transition: Transition,
    case,
    context: GuardContext,
    *,
    check_inputs: bool = True,
    authorise: Callable[[Transition, Any, Any], str | None],
) -> list[str]:
    """Every reason the transition cannot fire now (empty when it can). Permission comes first: a
    user who may not act is told so, not shown the case's internal checks."""
    denied = authorise(transition, case, context.user)
    if denied:
        return [denied]
    reasons: list[str] = []
    for guard in transition.guards:
        found = guard(case, context)  # None, one reason, or a list of them (a rule set)
        if isinstance(found, list):
            reasons.extend(found)
        elif found:
            reasons.append(found)
    if check_inputs:
        reasons.extend(missing_inputs(transition, context.inputs))
    return reasons


def available(
    workflow: Workflow, case, context: GuardContext, *, authorise, include: Iterable[str] | None = None
) -> list[Availability]:
    transitions = workflow.from_state(case.stage)
    if include is not None:
        transitions = [t for t in transitions if t.name in set(include)]
    return [Availability(t, evaluate(t, case, context, check_inputs=False, authorise=authorise)) for t in transitions]
