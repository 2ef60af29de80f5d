"""Request and response schemas, one module per noun plus the shared fields (`fields.py`); they also make the
OpenAPI document.

Schemas only shape data: they import no service and never ask who is logged in. What a screen shows beyond
a row's own columns (a request's allowed actions, its steps, its resubmissions, a notification's event) is
computed by the services for the whole page (services/views.py) before a schema dumps it.
"""
