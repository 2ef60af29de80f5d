"""Who decides what: rules resolved to people at submit time, and who may act on a step now.

The chain is frozen on the request (request_steps and request_step_deciders), so a rule or
department edited while a request waits does not change who decides it; escalation may add
people to a step, nothing removes them. Delegation is looked up at decision time, so ending one
takes effect at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa

from ..actor import Actor
from ..errors import Forbidden, ValidationFailed
from ..events import QueueChanged
from ..extensions import db
from ..models import Asset, Decision, Delegation, Department, Request, RequestStep, StepDecider, User
from ..models.base import utcnow
from ..models.department import path_up
from ..models.request import REQUEST_KINDS
from ..workflow.rules import Reach, Rule, Subject, first_match_index, shadowed, step_label
from .rules import as_stored, check_departments, current_rules


@dataclass
class ResolvedStep:
    """One step of a chain about to be frozen: its rule and the people who may decide it."""

    spec: dict[str, Any]
    people: list[int]

    @property
    def label(self) -> str:
        return step_label(self.spec)


def ancestry(department_id: int) -> list[int]:
    """The department and its ancestors up to the root, nearest first."""
    return path_up(dict(db.session.execute(sa.select(Department.id, Department.parent_id)).all()), department_id)


def descendants(department_id: int) -> list[int]:
    """The department and every department below it."""
    children: dict[int, list[int]] = {}
    for dept_id, parent_id in db.session.execute(sa.select(Department.id, Department.parent_id)):
        children.setdefault(parent_id, []).append(dept_id)
    found, todo = [], [department_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.append(current)
            todo += children.get(current, [])
    return found


# The roles a step may ask for: every role above an employee's (ROLE_RANK, below).
STEP_ROLES = ("approver", "admin")


@dataclass(frozen=True)
class Directory:
    """Everyone a rule could name today, read once in two queries: the department tree, each department's
    active manager, and the active holders of the roles a step may ask for. Submit reads it for one
    request, the routing check for every department."""

    parents: dict[int, int | None]
    managers: dict[int, int]
    holders: dict[str, list[int]]  # role -> its active holders, by user id
    seats: dict[tuple[str, int], list[int]]  # (role, department) -> its active holders there, by user id

    @classmethod
    def now(cls) -> Directory:
        rows = db.session.execute(
            sa.select(Department.id, Department.parent_id, Department.manager_id, User.active)
            .outerjoin(User, User.id == Department.manager_id)).all()
        holders: dict[str, list[int]] = {}
        seats: dict[tuple[str, int], list[int]] = {}
        for role, user_id, department_id in db.session.execute(
                sa.select(User.role, User.id, User.department_id)
                .where(User.active.is_(True), User.role.in_(STEP_ROLES)).order_by(User.id)):
            holders.setdefault(role, []).append(user_id)
            seats.setdefault((role, department_id), []).append(user_id)
        return cls({d: parent for d, parent, _, _ in rows},
                   {d: manager for d, _, manager, active in rows if manager is not None and active}, holders, seats)

    def path(self, department_id: int) -> list[int]:
        """The department and its ancestors up to the root, nearest first."""
        return path_up(self.parents, department_id)

    def people(self, spec: dict[str, Any], departments: list[int], exclude: int | None) -> list[int]:
        """Who a step names for an applicant of these departments (their path), by user id; `exclude` (the
        applicant) left out."""
        if spec["decider"] == "manager":
            manager = _first_manager(self.managers, departments, exclude)
            return [manager] if manager is not None else []
        if spec.get("scope", "company") == "department":
            found = sorted(user for d in departments for user in self.seats.get((spec["role"], d), ()))
        else:
            found = self.holders.get(spec["role"], [])
        return [user for user in found if user != exclude]


@dataclass(frozen=True)
class Route:
    """Where a request would go: the matching rule's position and the rule (None when none applies), and
    each of its steps with the people it names."""

    index: int | None
    rule: Rule | None
    steps: list[ResolvedStep]


def route(applicant_id: int | None, department_id: int, kind: str, category: str | None, value: Decimal,
          rules: list[Rule] | None = None, directory: Directory | None = None) -> Route:
    """The rule (of `rules`, the saved ones by default) a request would match and each step's people;
    `applicant_id` is left out of every step (None: an applicant who is none of the deciders)."""
    directory = directory or Directory.now()
    rules = current_rules() if rules is None else rules
    departments = directory.path(department_id)
    index = first_match_index(rules, Subject(kind, category or "", Decimal(value), frozenset(departments)))
    if index is None:
        return Route(None, None, [])
    return Route(index, rules[index], _resolved(rules[index], departments, applicant_id, directory))


def _resolved(rule: Rule, departments: list[int], exclude: int | None, directory: Directory) -> list[ResolvedStep]:
    return [ResolvedStep(spec, directory.people(spec, departments, exclude)) for spec in rule["steps"]]


def resolve(applicant: User, kind: str, category: str, value: Decimal,
            department_id: int | None = None) -> list[ResolvedStep]:
    """The chain the first matching rule gives this request, each step with its deciders.

    `department_id`: the department it is routed for (default the applicant's now; a request routed again
    keeps the one it was submitted from)."""
    department_id = applicant.department_id if department_id is None else department_id
    found = route(applicant.id, department_id, kind, category, value)
    if found.rule is None:
        raise ValidationFailed(NO_RULE, {"kind": kind, "department_id": department_id})
    return found.steps


def matching_rule(kind: str, category: str | None, value: Decimal | None, department_id: int) -> int | None:
    """The position of the rule that routes such a request under today's rules (None: no rule does)."""
    return first_match_index(current_rules(), _subject(kind, category, value, department_id))


def rule_for(applicant: User, kind: str, category: str | None, value: Decimal | None) -> Rule | None:
    """The rule that routes such a request by this applicant now (the first that matches), or None."""
    rules = current_rules()
    index = first_match_index(rules, _subject(kind, category, value, applicant.department_id))
    return None if index is None else rules[index]


def _subject(kind: str, category: str | None, value: Decimal | None, department_id: int) -> Subject:
    return Subject(kind, category or "", Decimal(value or 0), frozenset(ancestry(department_id)))


NO_RULE = "No approval rule applies to this request; ask an admin to add one"


def _first_manager(managers: dict[int, int], departments: list[int], exclude: int | None) -> int | None:
    return next((managers[d] for d in departments if managers.get(d) not in (None, exclude)), None)


def manager_above(departments: list[int], exclude: int | None = None) -> int | None:
    """The first active manager up the given department path who is not `exclude`."""
    managers = dict(db.session.execute(
        sa.select(Department.id, Department.manager_id)
        .join(User, User.id == Department.manager_id)
        .where(Department.id.in_(departments), User.active.is_(True))
    ).all())
    return _first_manager(managers, departments, exclude)


def undecidable_step(steps: list[ResolvedStep]) -> int | None:
    """The position of the first step that cannot get a person of its own (four eyes), or None when each can."""
    chosen: dict[int, int] = {}  # person -> step index, a bipartite matching grown one step at a time

    def place(index: int, seen: set[int]) -> bool:
        for person in steps[index].people:
            if person in seen:
                continue
            seen.add(person)
            if person not in chosen or place(chosen[person], seen):
                chosen[person] = index
                return True
        return False

    return next((index for index in range(len(steps)) if not place(index, set())), None)


def no_decider(number: int, label: str) -> str:
    """Why a chain could never be approved, for its step `number` (1-based)."""
    return (f"This request could never be approved: step {number} ({label}) has no possible "
            f"decider (nobody but you and the deciders of other steps)")


def check_decidable(steps: list[ResolvedStep]) -> None:
    """Refuse (422) a chain whose steps cannot each get a different person (four eyes)."""
    index = undecidable_step(steps)
    if index is not None:
        raise ValidationFailed(no_decider(index + 1, steps[index].label),
                               {"step": index + 1, "role": steps[index].label})


def freeze(req: Request, steps: list[ResolvedStep]) -> None:
    """Store the resolved chain on a new request (or one routed again); its first step starts now."""
    req.chain = [step.label for step in steps]
    req.steps_total = len(steps)
    req.required_role = req.chain[0]
    for number, step in enumerate(steps, start=1):
        spec = step.spec
        req.steps.append(RequestStep(
            step=number, decider=spec["decider"], role=spec.get("role"), scope=spec.get("scope", "company"),
            remind_after_hours=spec.get("remind_after_hours"), escalate_after_hours=spec.get("escalate_after_hours"),
            escalate_to=spec.get("escalate_to"), started_at=utcnow() if number == 1 else None,
        ))
        # `active`: resolve() named active people only.
        req.deciders += [StepDecider(step=number, user_id=person, via="rule", active=True) for person in step.people]


def refreeze(req: Request, steps: list[ResolvedStep]) -> None:
    """Replace the request's chain by a newly resolved one, starting again at step 1 (an edit changed the
    rule that matches it). Its earlier chain's decisions stay, as history of chain `chain_no - 1`."""
    req.steps.clear()
    req.deciders.clear()
    db.session.flush()  # the old rows go before the new ones take their (request, step) slots
    req.chain_no += 1
    req.step = 1
    freeze(req, steps)


def recheck(req: Request) -> None:
    """Re-check, under today's organisation, whether the people named for the request's current and later
    steps still hold what named them: `requalify` keeps pending requests up to date, not returned ones."""
    org = Organisation.now()
    steps = {step.step: step for step in req.steps}
    named = [d for d in req.deciders if d.step >= req.step]
    people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_({d.user_id for d in named})))}
    for row in named:
        row.entitled = entitled(people[row.user_id], steps[row.step], row.via, req.department_id, org)


@dataclass(frozen=True)
class Gap:
    """Why requests of `kinds` from a department could not be decided today: no rule applies to some of them
    (`rule` None: another category or a lower value than the rules name), or step `step` (1-based) of the
    rule at position `rule` has no possible decider."""

    kinds: tuple[str, ...]
    rule: int | None = None
    step: int | None = None
    label: str | None = None

    @property
    def message(self) -> str:
        if self.rule is None:
            return "no rule applies to some of these requests (another category or a lower value)"
        return f"rule {self.rule + 1}, step {self.step} ({self.label}) has no possible decider"


@dataclass(frozen=True)
class Stuck:
    """A department whose employees' requests could not all be decided today; `members`: its active users."""

    department: Department
    members: int
    gaps: list[Gap]


@dataclass(frozen=True)
class RoutingCheck:
    """The departments with a problem, and how many were checked."""

    items: list[Stuck]
    departments_checked: int


def routing_check(rules: list[Rule] | None = None, directory: Directory | None = None) -> RoutingCheck:
    """Every department whose employees' requests could not all be decided today, and why (rules: the saved
    ones by default).

    One read of the rules and the organisation; then, per department and kind, each rule its requests could
    reach (workflow.rules.reachable) is resolved as submit resolves it, for an applicant who is none of the
    deciders, and checked as submit checks it (four eyes). A department's own deciders asking for themselves
    are not tried: they leave only themselves out.
    """
    rules = current_rules() if rules is None else rules
    directory = directory or Directory.now()
    members = dict(db.session.execute(sa.select(User.department_id, sa.func.count())
                                      .where(User.active.is_(True)).group_by(User.department_id)).all())
    departments = db.session.scalars(sa.select(Department).order_by(Department.id)).all()
    reach, found = Reach(rules), []
    for department in departments:
        gaps = _gaps(rules, reach, directory, directory.path(department.id))
        if gaps:
            found.append(Stuck(department, members.get(department.id, 0), gaps))
    return RoutingCheck(found, len(departments))


def _gaps(rules: list[Rule], reach: Reach, directory: Directory, path: list[int]) -> list[Gap]:
    failing: dict[int, int | None] = {}  # rule position -> its first undecidable step, for this path
    kinds_of: dict[tuple[int | None, int | None], list[str]] = {}
    for kind in REQUEST_KINDS:
        reached, every_request = reach.of(kind, frozenset(path))
        if not every_request:
            kinds_of.setdefault((None, None), []).append(kind)
        for index in reached:
            if index not in failing:
                failing[index] = undecidable_step(_resolved(rules[index], path, None, directory))
            if failing[index] is not None:
                kinds_of.setdefault((index, failing[index]), []).append(kind)
    return [Gap(tuple(kinds)) if index is None else
            Gap(tuple(kinds), index, step + 1, step_label(rules[index]["steps"][step]))
            for (index, step), kinds in sorted(kinds_of.items(), key=lambda item: (item[0][0] is not None, item[0]))]


@dataclass(frozen=True)
class Simulation:
    """Where a request would go if submitted now, and what would stop it; nothing is written.

    `steps`: `{step, decider, role, scope, label, people: [User]}`; `problems`: `{code, message, …}`.
    """

    rule: dict[str, Any] | None
    steps: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    applicant: User | None
    department: Department


def simulate(actor: Actor, ask: dict[str, Any]) -> Simulation:
    """Route a request as submit would (the same route(), the same four-eyes check), without storing it.

    Admins may ask for anyone, any department, and a draft `rules` list (then also see which of those
    rules can never match and which steps nobody could decide); anyone else only for themselves, under
    the saved rules (403).
    """
    _may_simulate(actor, ask)
    applicant = _simulated_applicant(actor, ask)
    department = _simulated_department(ask, applicant)
    category, value = _simulated_subject(ask)
    rules = current_rules() if ask.get("rules") is None else _draft(ask["rules"])
    directory = Directory.now()
    found = route(applicant.id if applicant else None, department.id, ask["kind"], category, value, rules, directory)
    problems = _request_problems(found)
    if actor.role == "admin":
        problems += _list_problems(rules, directory)
    return Simulation(
        rule=None if found.rule is None else {"index": found.index, "match": found.rule["match"]},
        steps=_named_steps(found.steps), problems=problems, applicant=applicant, department=department)


def _may_simulate(actor: Actor, ask: dict[str, Any]) -> None:
    if actor.role == "admin":
        return
    if ask.get("rules") is not None:
        raise Forbidden("Only an admin may try draft rules")
    if ask.get("applicant_id") not in (None, actor.id):
        raise Forbidden("You may only see where your own request would go")
    if ask.get("department_id") not in (None, actor.user.department_id):
        raise Forbidden("You may only see where a request from your own department would go")


def _simulated_applicant(actor: Actor, ask: dict[str, Any]) -> User | None:
    """The applicant named, else the caller; for an admin who names only a department, a newcomer there (None)."""
    if ask.get("applicant_id") is None:
        newcomer = actor.role == "admin" and ask.get("department_id") is not None
        return None if newcomer else actor.user
    applicant = db.session.get(User, ask["applicant_id"])
    if applicant is None:
        raise _invalid("applicant_id", f"No user with id {ask['applicant_id']}")
    return applicant


def _simulated_department(ask: dict[str, Any], applicant: User | None) -> Department:
    department_id = ask.get("department_id") or applicant.department_id
    department = db.session.get(Department, department_id)
    if department is None:
        raise _invalid("department_id", f"No department with id {department_id}")
    return department


def _simulated_subject(ask: dict[str, Any]) -> tuple[str | None, Decimal]:
    """The category and value the rules look at: the asset's, as at submit, or those given (value 0 if none)."""
    if ask.get("asset_id") is None:
        return ask.get("category"), ask.get("value") or Decimal(0)
    if ask.get("category") is not None or ask.get("value") is not None:
        raise _invalid("asset_id", "An asset's own category and value route its request; omit category and value")
    asset = db.session.get(Asset, ask["asset_id"])
    if asset is None:
        raise _invalid("asset_id", f"No asset with id {ask['asset_id']}")
    return asset.category, asset.value


def _draft(rules: list[dict[str, Any]]) -> list[Rule]:
    """A draft list as saving it would store it, refused (422) as saving would refuse it."""
    draft = [as_stored(rule) for rule in rules]
    check_departments(draft, field="rules")
    return draft


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {"fields": {field: [message]}})


def _request_problems(found: Route) -> list[dict[str, Any]]:
    """What submit would refuse this request for: no rule, or a step nobody could decide."""
    if found.rule is None:
        return [{"code": "no_rule", "message": NO_RULE}]
    index = undecidable_step(found.steps)
    if index is None:
        return []
    return [{"code": "no_decider", "step": index + 1, "label": found.steps[index].label,
             "message": no_decider(index + 1, found.steps[index].label)}]


def _list_problems(rules: list[Rule], directory: Directory) -> list[dict[str, Any]]:
    """What is wrong with the list itself: rules that can never match, steps nobody could decide somewhere."""
    problems = [{"code": "shadowed", "rule": rule, "by": by,
                 "message": f"Rule {rule + 1} can never match: rule {by + 1} before it takes every request it would"}
                for rule, by in shadowed(rules, directory.path)]
    nobody: dict[tuple[int, int, str], list[Department]] = {}
    for stuck in routing_check(rules, directory).items:
        for gap in stuck.gaps:
            if gap.rule is not None:
                nobody.setdefault((gap.rule, gap.step, gap.label), []).append(stuck.department)
    return problems + [
        {"code": "nobody", "rule": rule, "step": step, "label": label, "departments": departments,
         "message": f"Rule {rule + 1}, step {step} ({label}): nobody could decide it for requests from "
                    + ", ".join(d.name for d in departments)}
        for (rule, step, label), departments in sorted(nobody.items())]


def _named_steps(steps: list[ResolvedStep]) -> list[dict[str, Any]]:
    ids = {person for step in steps for person in step.people}
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
    return [{"step": number, "decider": step.spec["decider"], "role": step.spec.get("role"),
             "scope": step.spec.get("scope"), "label": step.label, "people": [users[p] for p in step.people]}
            for number, step in enumerate(steps, start=1)]


# A role holds the steps of the roles below it: an approver promoted to admin keeps their queue.
ROLE_RANK = {"employee": 0, "approver": 1, "admin": 2}


def holds(role: str, needed: str) -> bool:
    """Whether someone with `role` may decide a step that asks for `needed`."""
    return ROLE_RANK.get(role, -1) >= ROLE_RANK.get(needed, len(ROLE_RANK))


@dataclass(frozen=True)
class Organisation:
    """The department tree and its managers as they stand now, read once for many entitlement checks."""

    parents: dict[int, int | None]
    managers: dict[int, int | None]

    @classmethod
    def now(cls) -> Organisation:
        rows = db.session.execute(sa.select(Department.id, Department.parent_id, Department.manager_id)).all()
        return cls({d: parent for d, parent, _ in rows}, {d: manager for d, _, manager in rows})

    def path(self, department_id: int) -> list[int]:
        """The department and its ancestors up to the root."""
        return path_up(self.parents, department_id)

    def manages_above(self, user_id: int, department_id: int) -> bool:
        """Whether the user manages this department or one above it."""
        return any(self.managers.get(d) == user_id for d in self.path(department_id))


def entitled(person: User, step: RequestStep, via: str, department_id: int, org: Organisation) -> bool:
    """Whether a person named for a step still holds what named them, under today's organisation.

    A rule's role step wants the role (or a higher one) and, scoped to the department, a seat in the
    request's department or above it; a manager step wants a manager's post on that path; an escalation
    wants what it escalated to. `department_id` is the applicant's department at submit.
    """
    wanted = step.escalate_to if via == "escalation" else ("manager" if step.decider == "manager" else step.role)
    if wanted == "manager":
        return org.manages_above(person.id, department_id)
    if not holds(person.role, wanted or ""):
        return False
    scoped = via != "escalation" and step.scope == "department"
    return not scoped or person.department_id in org.path(department_id)


def requalify(user_ids: Iterable[int] | None = None, activity_changed: bool = False) -> list[QueueChanged]:
    """Recheck the named deciders of pending requests (of these users, or everyone's) against today's
    organisation, in the caller's transaction; whose queue changed, with their delegates.

    Called by every change to a role, a department, a manager or (`activity_changed`) the active flag
    (services/users, services/departments): a deactivated person's delegates lose their requests too.
    """
    query = (sa.select(StepDecider, RequestStep, User, Request.department_id, Request.step)
             .join(Request, Request.id == StepDecider.request_id)
             .join(RequestStep, sa.and_(RequestStep.request_id == Request.id, RequestStep.step == StepDecider.step))
             .join(User, User.id == StepDecider.user_id)
             .where(Request.state == "pending", RequestStep.step >= Request.step))
    if user_ids is not None:
        query = query.where(StepDecider.user_id.in_(set(user_ids)))
    org, changed = Organisation.now(), {}
    for named, step, person, department_id, current in db.session.execute(query.order_by(StepDecider.id)):
        now_entitled = entitled(person, step, named.via, department_id, org)
        flipped, named.entitled = named.entitled != now_entitled, now_entitled
        if step.step == current and (flipped or (activity_changed and now_entitled)):
            changed.setdefault((named.request_id, current), set()).add(person.id)
    return [QueueChanged(request_id, step, frozenset(users | delegates_of(users)))
            for (request_id, step), users in sorted(changed.items())]


def start_step(req: Request) -> None:
    """Mark the request's current step as started: its timers count from now. A reminder sent before the
    request was returned is sent again when due; an escalation stays done (the people it added stay named)."""
    for step in req.steps:
        if step.step == req.step:
            step.started_at, step.reminded_at = utcnow(), None


def current_decisions(req: Request) -> list[Decision]:
    """The decisions of the request's current chain (an edit that changed its rule started a new one)."""
    return [d for d in req.decisions if d.chain_no == req.chain_no]


def started_at(req: Request, number: int) -> datetime | None:
    """When step `number` of the request became the current one (from the loaded steps)."""
    return next((step.started_at for step in req.steps if step.step == number), None)


def prior_deciders(req: Request) -> set[int]:
    """Everyone who decided a step of the current chain, in person or through a delegate (four eyes covers both)."""
    decisions = current_decisions(req)
    return {d.approver_id for d in decisions} | {d.on_behalf_of_id for d in decisions if d.on_behalf_of_id}


class Named(NamedTuple):
    """A person named for a step as read with the request (NAMED_PEOPLE): what a StepDecider tells a decision,
    without an ORM object, and whom the person's delegations name now."""

    user_id: int
    step: int
    active: bool
    entitled: bool
    via: str
    delegates: frozenset[int]


def named_on(req: Request) -> Sequence[StepDecider | Named]:
    """The request's named people: its `deciders` when loaded (a page loads them; a change to them loads them
    first, so they are never older than the rows), else the rows its query read with it, else `deciders`, loaded."""
    joined = None if "deciders" in req.__dict__ else req.named_people
    return req.deciders if joined is None else _parse_named(joined)


@lru_cache(maxsize=64)  # one parse per read of a request: the same string is asked for by each check of a decision
def _parse_named(joined: str) -> tuple[Named, ...]:
    return tuple(Named(int(user_id), int(step), active == "1", entitled == "1", via,
                       frozenset(int(d) for d in delegates.split("|") if d))
                 for user_id, step, active, entitled, via, delegates
                 in (entry.split(":") for entry in joined.split(",") if entry))


def step_deciders(req: Request, step: int | None = None) -> set[int]:
    """The active, still entitled people named for a step (the current one by default), applicant and earlier
    deciders left out."""
    step = step or req.step
    excluded = {req.applicant_id, *prior_deciders(req)}
    return {d.user_id for d in named_on(req)
            if d.step == step and d.active and d.entitled and d.user_id not in excluded}


def delegates_of(user_ids: Iterable[int]) -> set[int]:
    """Active users holding an active delegation from any of these users."""
    ids = set(user_ids)
    if not ids:
        return set()
    return set(db.session.scalars(_DELEGATES, {"ids": list(ids), "now": utcnow()}))


# Built once, its values bound per call (every decision asks): a statement built per call is keyed for the compiled
# cache each time. Of the tables, not the models: an ORM statement costs each call ~100 Python calls more, for rows
# of one column.
_DELEGATIONS, _USERS = Delegation.__table__, User.__table__


def _delegating(delegators: sa.ColumnElement[bool], now: Any, users: sa.FromClause) -> tuple:
    """Delegations of these delegators running at `now` to a user (of `users`, joined) who is active: the one rule
    of who stands in, for `delegates_of` and for the named people's column."""
    return (delegators, _DELEGATIONS.c.starts_at <= now, _DELEGATIONS.c.ends_at > now, users.c.active.is_(True))


_DELEGATES = (sa.select(_DELEGATIONS.c.delegate_id).join(_USERS, _USERS.c.id == _DELEGATIONS.c.delegate_id)
              .where(*_delegating(_DELEGATIONS.c.delegator_id.in_(sa.bindparam("ids", expanding=True)),
                                  sa.bindparam("now"), _USERS)))


# The expression of Request.named_people: each named person as "user_id:step:active:entitled:via:delegate|delegate…",
# comma-separated and unordered ("" for nobody). The time the delegations are read at is taken as the statement runs,
# so that a refresh of the request (which runs its query's expressions again) needs no value for it.
_NOW = sa.bindparam("named_at", callable_=utcnow)
_DELEGATE_USERS = _USERS.alias("delegate_users")
_DELEGATES_NOW = (
    sa.select(sa.func.aggregate_strings(sa.cast(_DELEGATIONS.c.delegate_id, sa.String), "|"))
    .join(_DELEGATE_USERS, _DELEGATE_USERS.c.id == _DELEGATIONS.c.delegate_id)
    .where(*_delegating(_DELEGATIONS.c.delegator_id == StepDecider.user_id, _NOW, _DELEGATE_USERS))
    .scalar_subquery())


def _flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[str]:
    return sa.case((condition, "1"), else_="0")


_PERSON = (sa.cast(StepDecider.user_id, sa.String) + ":" + sa.cast(StepDecider.step, sa.String)
           + ":" + _flag(User.active.is_(True)) + ":" + _flag(StepDecider.entitled.is_(True))
           + ":" + StepDecider.via + ":" + sa.func.coalesce(_DELEGATES_NOW, ""))
NAMED_PEOPLE = (sa.select(sa.func.coalesce(sa.func.aggregate_strings(_PERSON, ","), ""))
                .join(User, User.id == StepDecider.user_id)
                .where(StepDecider.request_id == Request.id).correlate(Request).scalar_subquery())


def may_decide_now(req: Request, named: set[int] | None = None) -> set[int]:
    """Everyone who may decide the current step now: the named deciders (if already known, `named`)
    and their delegates."""
    if req.state != "pending":
        return set()
    named = step_deciders(req) if named is None else named
    excluded = {req.applicant_id, *prior_deciders(req)}
    return named | (_delegates_now(req, named) - excluded)


def _delegates_now(req: Request, people: set[int]) -> set[int]:
    """The delegates of these people named on the request: as read with it when it was, else asked."""
    read = {row.user_id: row.delegates for row in named_on(req) if isinstance(row, Named)}
    if not people <= read.keys():
        return delegates_of(people)
    return {delegate for person in people for delegate in read[person]}


def decided_by(user_id, request_id=Request.id, chain_no=None):
    """SQL: the user decided a step of the request (of the chain `chain_no` when given, a column or a value),
    in person or through a delegate.

    Inside another EXISTS pass that query's request id column: SQL correlates with the nearest query only.
    """
    chain = [] if chain_no is None else [Decision.chain_no == chain_no]
    # Everything but decisions correlates with an enclosing query, however deep (a chain_no column from two up).
    return sa.exists().where(Decision.request_id == request_id, *chain,
                             sa.or_(Decision.approver_id == user_id, Decision.on_behalf_of_id == user_id)
                             ).correlate_except(Decision)


def step_states(req: Request) -> list[dict[str, Any]]:
    """The frozen chain as the request page shows it: each step's people by name, its state, who decided it."""
    decisions = {d.step: d for d in current_decisions(req)}
    people: dict[int, list[StepDecider]] = {}
    for named in req.deciders:
        people.setdefault(named.step, []).append(named)
    names = dict(db.session.execute(
        sa.select(User.id, User.display_name).where(User.id.in_({n.user_id for n in req.deciders}))).all())
    return [{
        "step": step.step, "decider": step.decider, "role": step.role, "scope": step.scope,
        "label": req.chain[step.step - 1], "state": _step_state(req, step.step, step.step in decisions),
        "deciders": [{"id": n.user_id, "display_name": names[n.user_id], "via": n.via, "active": n.active,
                      "entitled": n.entitled}
                     for n in people.get(step.step, [])],
        "decided_by": decisions.get(step.step),
        "remind_after_hours": step.remind_after_hours, "escalate_after_hours": step.escalate_after_hours,
        "started_at": step.started_at, "escalated_at": step.escalated_at,
    } for step in req.steps]


def _step_state(req: Request, step: int, decided: bool) -> str:
    if decided:
        return "done"
    if req.state == "returned" and step == req.step:
        return "returned"  # with the applicant for changes; it comes back to this step, or to a new chain
    if req.state not in ("pending", "returned"):
        return "skipped"  # rejected at an earlier step, or withdrawn
    return "current" if step == req.step else "waiting"


def resubmissions(req: Request) -> list[int]:
    """Ids of the requests that resubmit this one."""
    return list(db.session.scalars(sa.select(Request.id).where(Request.previous_id == req.id).order_by(Request.id)))
