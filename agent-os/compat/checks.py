"""The checks compat.py and its section modules share: assertions on what the client parsed, and failure reports."""

import traceback
import uuid
from datetime import datetime

import httpx
from agno.run.base import RunStatus


class CheckFailed(Exception):
    """A check on what the client parsed failed."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def equal(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def contains(text, part, what):
    check(isinstance(text, str) and part in text, f"{what}: expected text containing {part!r}, got {text!r}")


def is_time(value, what):
    """The client parsed a timestamp (ISO 8601 or unix seconds) into a datetime."""
    check(isinstance(value, datetime), f"{what}: expected a datetime, got {value!r}")


def status(value):
    """A run status as its wire name (agent outputs hold a `RunStatus`, team and workflow outputs the string)."""
    return value.value if isinstance(value, RunStatus) else value


def fresh(prefix):
    """An id (session, user) no earlier call used."""
    return f"compat-{prefix}-{uuid.uuid4().hex[:8]}"


async def http_status(call):
    """The HTTP status the awaited `call` fails with; a call that succeeds fails the check."""
    try:
        await call
    except httpx.HTTPStatusError as error:
        return error.response.status_code
    raise CheckFailed("the call succeeded; expected an HTTP error")


def describe(error):
    """What the client raised, with what the server sent for an HTTP error."""
    if isinstance(error, CheckFailed):
        return str(error)
    if isinstance(error, httpx.HTTPStatusError):
        response = error.response
        try:
            body = response.text
        except httpx.ResponseNotRead:
            body = "(stream body not read)"
        return (
            f"the client raised HTTPStatusError: {response.status_code} for "
            f"{error.request.method} {error.request.url}; the server sent: {body[:2000]}"
        )
    return f"the client raised {type(error).__name__}: {error}\n{traceback.format_exc()}"
