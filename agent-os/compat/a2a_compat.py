"""Drives the demo AgentOS's A2A routes with the official A2A client (`a2a-sdk`, pinned in
requirements.txt): the agent card, message/send, message/stream, a conversation continued by
context id, tasks/get, and the security key. Prints one line per check; exits 1 on a failure.

    python a2a_compat.py BASE_URL [BEARER_KEY]
"""

import asyncio
import sys
import uuid

import httpx
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import Message, Part, Role, Task, TaskQueryParams, TaskState, TextPart


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def user_message(text, context_id=None):
    return Message(
        role=Role.user,
        message_id=str(uuid.uuid4()),
        parts=[Part(root=TextPart(text=text))],
        context_id=context_id,
    )


def text_of(message):
    return "".join(part.root.text for part in message.parts if getattr(part.root, "kind", "") == "text")


async def final_task(client, message):
    """Sends a message; returns the last Task the client yields and every event seen."""
    task, seen = None, []
    async for event in client.send_message(message):
        if isinstance(event, tuple):
            task, update = event
            seen.append(type(update).__name__ if update is not None else "Task")
        elif isinstance(event, Message):
            seen.append("Message")
        else:
            task = event
            seen.append(type(event).__name__)
    return task, seen


async def main(base_url, key):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        agent_base = f"{base_url}/a2a/agents/weather-agent"
        card = await A2ACardResolver(http, agent_base).get_agent_card()
        check(card.name == "Weather Agent", f"card name {card.name!r}")
        check(card.url == f"{agent_base}/v1/message:stream", f"card url {card.url!r}")
        check(card.capabilities.streaming, "the card says it streams")
        check("get_weather" in [skill.id for skill in card.skills], f"skills {[s.id for s in card.skills]}")
        print(f"ok    agent card: {card.name} at {card.url}, skills {[s.id for s in card.skills]}, protocol {card.protocol_version}")

        sender = ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create(card)
        task, _ = await final_task(sender, user_message("What's the weather in Paris?"))
        check(isinstance(task, Task), f"message/send gave {task!r}")
        check(task.status.state == TaskState.completed, f"state {task.status.state}")
        answer = text_of(task.history[-1])
        check("Paris" in answer, f"answer {answer!r}")
        print(f"ok    message/send: task {task.id} {task.status.state.value}: {answer!r}")

        again, _ = await final_task(sender, user_message("And in Rome?", context_id=task.context_id))
        check(again.context_id == task.context_id, "the context continues")
        runs = (await http.get(f"{base_url}/sessions/{task.context_id}/runs")).json()
        check(len(runs) == 2, f"{len(runs)} runs in the session")
        print(f"ok    conversation by contextId: {task.context_id} holds {len(runs)} runs")

        fetched = await sender.get_task(TaskQueryParams(id=task.id))
        check(fetched.id == task.id and fetched.status.state == TaskState.completed, f"tasks/get {fetched!r}")
        print(f"ok    tasks/get: {fetched.id} {fetched.status.state.value}")

        streamer = ClientFactory(ClientConfig(streaming=True, httpx_client=http)).create(card)
        task, seen = await final_task(streamer, user_message("Weather in Oslo?"))
        check(isinstance(task, Task) and task.status.state == TaskState.completed, f"stream ended with {task!r}")
        check("Oslo" in text_of(task.history[-1]), "the streamed answer")
        check("TaskStatusUpdateEvent" in seen, f"events {seen}")
        print(f"ok    message/stream: {len(seen)} events, final {task.status.state.value}: {text_of(task.history[-1])!r}")

        team_card = await A2ACardResolver(http, f"{base_url}/a2a/teams/demo-team").get_agent_card()
        team = ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create(team_card)
        task, _ = await final_task(team, user_message("What's the weather in Rome?"))
        check(task.status.state == TaskState.completed, f"team state {task.status.state}")
        print(f"ok    team message/send: {text_of(task.history[-1])!r}")

        if key:
            denied = await httpx.AsyncClient(timeout=10).get(f"{agent_base}/.well-known/agent-card.json")
            check(denied.status_code == 401, f"without the key: {denied.status_code}")
            print("ok    security key: the card needs the bearer token (401 without)")
    print("all A2A checks passed")


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1].rstrip("/"), sys.argv[2] if len(sys.argv) > 2 else None))
    except Exception as err:  # noqa: BLE001 - report any failure as one line
        print(f"FAIL  {type(err).__name__}: {err}")
        sys.exit(1)
