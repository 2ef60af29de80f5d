"""One spec per request kind, in one registry: everything the server (and, through GET /api/meta, the SPA)
knows about a kind.

A `KindSpec` holds the fields a kind takes, the asset statuses it fits and who may ask per status,
the preconditions checked at submit and again, unchanged, at final approval, its effect on the asset,
who else is told when it is approved, and the i18n keys the SPA words it with. services/requests.py
asks the spec and has no branch per kind. docs/architecture.md ("Adding a request kind") walks
through adding one.

Who may ask, per asset status, besides an admin: `anyone`, the asset's `custodian`, or a role (the
stock keepers, `approver`). A (kind, status) pair the spec does not list does not fit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..errors import AppError, Forbidden, PreconditionFailed, ValidationFailed
from ..extensions import db
from ..models import Asset, Request, User
from ..models.request import REQUEST_KINDS

ANYONE, CUSTODIAN = "anyone", "custodian"
FIELD_TYPES = ("text", "money", "currency", "asset", "user")


@dataclass(frozen=True)
class FieldSpec:
    """One field a kind takes besides kind and reason; `label` is its i18n key."""

    name: str
    type: str  # one of FIELD_TYPES: how the schema reads it and how the SPA renders it
    required: bool = True
    max_length: int | None = None
    label: str = ""
    # Filled in when omitted, from the app's config (the setting's name).
    default_setting: str | None = None

    def default(self) -> Any:
        return current_app.config[self.default_setting] if self.default_setting else None


@dataclass(frozen=True)
class Ask:
    """What a precondition looks at: the applicant, the asset (None for a kind without one) and the fields."""

    kind: str
    applicant: User
    asset: Asset | None
    data: Mapping[str, Any]


class Unmet(Exception):
    """A precondition that does not hold: the submit error it is, and what changed when met at approval."""

    def __init__(self, name: str, error: type[AppError], message: str, now: str, details: dict[str, Any]):
        super().__init__(message)
        self.name, self.error, self.message, self.now, self.details = name, error, message, now, details

    def at_submit(self) -> AppError:
        """The error a submit gets (422 or 403, as before the registry)."""
        return self.error(self.message, self.details)

    def at_approval(self, kind: str) -> PreconditionFailed:
        """The 409 a final approval gets when the world changed since the request was filed."""
        return PreconditionFailed(f"Cannot approve this {kind}: {self.now}",
                                  {"precondition": self.name, **self.details})


Check = Callable[[Ask], None]


@dataclass(frozen=True)
class KindSpec:
    """A request kind: its fields, what it fits, who may ask, what it checks, what it does and how it is worded."""

    name: str
    fields: tuple[FieldSpec, ...]
    # asset status -> who may ask while the asset has it; empty for a kind without an asset (acquire).
    who_may_ask: Mapping[str, tuple[str, ...]]
    effect: Callable[[Request], None]
    # Run at submit and again at final approval (one list, both points), after the generic checks.
    checks: tuple[Check, ...] = ()
    # Besides the applicant, who is told that the request was approved.
    also_told: Callable[[Request], list[int]] = field(default=lambda req: [])
    wording: Mapping[str, str] = field(default_factory=dict)

    @property
    def takes_asset(self) -> bool:
        return bool(self.who_may_ask)

    @property
    def fits(self) -> tuple[str, ...] | None:
        """The asset statuses this kind may be asked for; None: it has no asset."""
        return tuple(self.who_may_ask) if self.takes_asset else None

    @property
    def own_fields(self) -> tuple[FieldSpec, ...]:
        """The fields besides asset_id (stored on the request itself)."""
        return tuple(f for f in self.fields if f.type != "asset")

    def values(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The request's own fields from submitted data, defaults filled in; fields it does not take are left out."""
        values = {}
        for spec in self.own_fields:
            value = data.get(spec.name)
            values[spec.name] = spec.default() if value in (None, "") else value
        if "value" in values and values["value"] is not None:
            values["value"] = Decimal(values["value"])
        return values

    def copy(self, req: Request) -> dict[str, Any]:
        """What a resubmit of `req` submits again: its asset and its own fields, as a client would send them."""
        data: dict[str, Any] = {"asset_id": req.asset_id} if self.takes_asset else {}
        for spec in self.own_fields:
            value = getattr(req, spec.name)
            data[spec.name] = str(value) if isinstance(value, Decimal) else value
        return data

    def stored(self, req: Request) -> dict[str, Any]:
        """The request's fields as stored, for the checks at approval."""
        return self.copy(req)

    def preconditions(self, ask: Ask) -> None:
        """Every rule the request must meet, at submit and at final approval; raise Unmet for the first broken one."""
        for check in (_fields_present, _fits, _may_ask, *self.checks):
            check(ask)


# --- the generic checks every kind runs --------------------------------------------------------

def _invalid(name: str, field_name: str, message: str, now: str | None = None, **details: Any) -> Unmet:
    return Unmet(name, ValidationFailed, message, now or message, {"fields": {field_name: [message]}, **details})


def _fields_present(ask: Ask) -> None:
    spec = KINDS[ask.kind]
    article = "An" if ask.kind[0] in "aeiou" else "A"
    for f in spec.fields:
        if f.required and f.default_setting is None and ask.data.get(f.name) in (None, ""):
            raise _invalid("fields", f.name, f"{article} {ask.kind} request needs {f.name}")
        if f.type == "money" and ask.data.get(f.name) not in (None, "") and Decimal(ask.data[f.name]) <= 0:
            raise _invalid("fields", f.name, f"{f.name} must be more than 0")


def _misfit(ask: Ask) -> dict[str, Any]:
    return {"asset_status": ask.asset.status, "allowed": list(KINDS[ask.kind].fits)}


def _fits(ask: Ask) -> None:
    """The asset's status must be one the kind fits (422 at submit)."""
    if ask.asset is not None and ask.asset.status not in KINDS[ask.kind].who_may_ask:
        raise Unmet("asset_status", ValidationFailed,
                    f"Cannot {ask.kind} asset {ask.asset.tag}: it is {ask.asset.status}",
                    f"asset {ask.asset.tag} is now {ask.asset.status}", _misfit(ask))


def _may_ask(ask: Ask) -> None:
    """The applicant must be one the spec allows for the asset's status (403 at submit).

    Checked again at final approval: the request acts for its applicant, so an approver demoted since, or a
    custodian who no longer holds the asset, no longer has it approved."""
    if ask.asset is None:
        return
    user, asset = ask.applicant, ask.asset
    allowed = KINDS[ask.kind].who_may_ask[asset.status]
    if user.role == "admin" or ANYONE in allowed or user.role in allowed:
        return
    if CUSTODIAN in allowed and asset.custodian_id == user.id:
        return
    who = " or ".join(("the asset's custodian" if a == CUSTODIAN else f"an {a}") for a in allowed)
    raise Unmet("who_may_ask", Forbidden,
                f"Only {who} or an admin may ask to {ask.kind} asset {asset.tag} while it is {asset.status}",
                f"{user.display_name} may no longer ask for it ({who} or an admin may)",
                {"asset_status": asset.status, "allowed": [*allowed, "admin"]})


# --- checks of one kind --------------------------------------------------------------------------

def _target_is_active(ask: Ask) -> None:
    """A transfer goes to an active user who does not already hold the asset."""
    from ..models import User

    target_id = ask.data["target_user_id"]
    target = db.session.get(User, target_id)
    if target is None or not target.active:
        raise _invalid("target_user_active", "target_user_id", f"User {target_id} does not exist",
                       f"user {target_id} is no longer active", target_user_id=target_id)
    if ask.asset is not None and ask.asset.custodian_id == target_id:
        raise _invalid("target_not_custodian", "target_user_id", "The target already holds this asset",
                       "the target already holds this asset", target_user_id=target_id)


# --- effects: what final approval does, in the approving transaction ----------------------------

ACQUIRED_PREFIX = "ACQ-"


# Built once (keyed once), of the table (an ORM statement costs ~100 Python calls more, for rows of one column).
_TAGS_LIKE = sa.select(Asset.__table__.c.tag).where(Asset.__table__.c.tag.like(sa.bindparam("pattern")))


def acquired_tag(request_id: int) -> str:
    """The tag of the asset an acquire creates: ACQ-<request id>, or a free variant of it."""
    base = f"{ACQUIRED_PREFIX}{request_id:06d}"
    # Admins cannot register ACQ- tags (services/assets.py), but a row registered before that
    # rule may hold one; the request's own id keeps the variants of two requests apart.
    with db.session.no_autoflush:
        taken = set(db.session.scalars(_TAGS_LIKE, {"pattern": f"{base}%"}))
    return next(tag for tag in itertools.chain([base], (f"{base}-{n}" for n in itertools.count(2)))
                if tag not in taken)


def _acquire(req: Request) -> None:
    req.asset = Asset(
        tag=acquired_tag(req.id), name=req.name, category=req.category, value=req.value,
        # A request stored before DEFAULT_CURRENCY was filled in at submit has none.
        currency=req.currency or current_app.config["DEFAULT_CURRENCY"], status="in_use",
        custodian_id=req.applicant_id,
    )


def _assign(req: Request) -> None:
    req.asset.status, req.asset.custodian_id = "in_use", req.applicant_id


def _transfer(req: Request) -> None:
    req.asset.custodian_id = req.target_user_id


def _repair(req: Request) -> None:
    req.asset.status = "in_repair"


def _dispose(req: Request) -> None:
    req.asset.status, req.asset.custodian_id = "disposed", None


ASSET = FieldSpec("asset_id", "asset", label="submit.asset")


def _wording(kind: str) -> dict[str, str]:
    return {"label": f"kind.{kind}", "help": f"submit.kindHelp.{kind}"}


KINDS: dict[str, KindSpec] = {spec.name: spec for spec in (
    KindSpec("acquire", fields=(
        FieldSpec("name", "text", max_length=120, label="submit.name"),
        FieldSpec("category", "text", max_length=64, label="submit.category"),
        FieldSpec("value", "money", label="submit.value"),
        FieldSpec("currency", "currency", required=False, label="submit.currency", default_setting="DEFAULT_CURRENCY"),
    ), who_may_ask={}, effect=_acquire, wording=_wording("acquire")),
    KindSpec("assign", fields=(ASSET,), who_may_ask={"in_stock": (ANYONE,)}, effect=_assign,
             wording=_wording("assign")),
    KindSpec("transfer", fields=(ASSET, FieldSpec("target_user_id", "user", label="submit.target")),
             who_may_ask={"in_use": (CUSTODIAN,)}, effect=_transfer, checks=(_target_is_active,),
             also_told=lambda req: [req.target_user_id], wording=_wording("transfer")),
    # Stock has no custodian to lock out (and anyone may lock it with an assign): anyone may
    # report it broken; throwing it away is for the approvers who keep it.
    KindSpec("repair", fields=(ASSET,), who_may_ask={"in_stock": (ANYONE,), "in_use": (CUSTODIAN,)},
             effect=_repair, wording=_wording("repair")),
    KindSpec("dispose", fields=(ASSET,),
             who_may_ask={"in_stock": ("approver",), "in_use": (CUSTODIAN,), "in_repair": (CUSTODIAN, "approver")},
             effect=_dispose, wording=_wording("dispose")),
)}
if tuple(KINDS) != REQUEST_KINDS:  # the names stored, and the model's check constraint (a migration)
    raise RuntimeError(f"models/request.py REQUEST_KINDS {REQUEST_KINDS} differ from the registry {tuple(KINDS)}")
# Derived views, for readers that want only one column of the registry.
KIND_FITS: dict[str, tuple[str, ...]] = {name: spec.fits for name, spec in KINDS.items() if spec.takes_asset}


def spec_of(kind: str) -> KindSpec:
    return KINDS[kind]


def all_fields() -> dict[str, FieldSpec]:
    """Every field some kind takes, by name; kinds sharing a name share its definition."""
    found: dict[str, FieldSpec] = {}
    for spec in KINDS.values():
        for f in spec.fields:
            if found.setdefault(f.name, f) != f:
                raise RuntimeError(f"Kinds disagree about field {f.name}")
    return found


def apply(req: Request) -> None:
    """Change the asset as the approved request asks (its kind's effect), in the approving transaction."""
    KINDS[req.kind].effect(req)
