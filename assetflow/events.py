"""Domain events: what happened to a request, named once for every channel that tells people about it."""

from __future__ import annotations

# Published by the services; webhooks subscribe to them by these names.
DOMAIN_EVENTS = (
    "request.submitted",
    "request.advanced",
    "request.approved",
    "request.rejected",
    "request.withdrawn",
    "request.resubmitted",
    "request.commented",
    "request.reminded",
    "request.escalated",
)
# Sent only by an admin's "send a test" on one webhook.
PING = "webhook.ping"
