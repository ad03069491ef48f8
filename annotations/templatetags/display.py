"""Stored English values said in the reader's language on the pages."""

from __future__ import annotations

from django import template

from annotations.views.job_messages import job_message as say_job_message
from annotations.views.job_messages import job_stage as say_job_stage

register = template.Library()


@register.filter
def job_stage(stage: str) -> str:
    return say_job_stage(stage)


@register.filter
def job_message(message: str) -> str:
    return say_job_message(message)
