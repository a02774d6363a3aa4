"""Our one way to send a message to a person: render a subject and a text body from templates, send it.

Small on purpose: the product's outbox (alerts) can take this over later by changing this one function.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string


def mail_send(*, to: str, template: str, context: dict) -> None:
    """`template` names `<template>_subject.txt` and `<template>_body.txt`; one message, one recipient."""
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}_body.txt", context)
    EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]).send()
