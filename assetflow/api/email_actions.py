"""The one-click links of approvers' e-mails: read what a link would do, then confirm it.

No login: the signed, single-use, expiring token is the credential, for one action on one
version of one request. Neither endpoint is a GET, so opening a link in a mail client's preview
changes nothing.
"""

from ..services import email_links
from .base import ApiBlueprint
from .budgets import by_link_signer, write_budget
from .schemas.email_actions import EmailActionSchema, EmailConfirmSchema, EmailTokenSchema

blp = ApiBlueprint("email_actions", __name__, url_prefix="/api/email-actions",
                   description="Approve or reject from an e-mail link")


@blp.post("/preview")
@blp.arguments(EmailTokenSchema)
@blp.response(200, EmailActionSchema)
@blp.errors(400, 409, 413, 422, auth=False)
def preview(data):
    """What the link would do, as whom, to which request; 409 `link_unusable` says why it cannot
    (`details.reason`: invalid, expired, used, stale)."""
    return email_links.read(data["token"])


@blp.post("/confirm")
@write_budget("decisions", key=by_link_signer)
@blp.arguments(EmailConfirmSchema)
@blp.response(200, EmailActionSchema)
@blp.errors(400, 403, 404, 409, 413, 422, auth=False)
def confirm(data):
    """Take the link's action (a rejection needs `comment`); the link is spent once it decides.
    The answer shows the request as the decision left it."""
    return email_links.confirm(data["token"], data["comment"])
