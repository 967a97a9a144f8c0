#!/usr/bin/env python3
"""Drives every run, discovery, memory, session and knowledge method of agno's AgentOSClient (agno 3.1.10) against the demo AgentOS.

Usage: compat.py BASE_URL [--keep-going]

The server must serve the demo set of the `examples` crate (`examples::demo`):
`weather-agent`, `approval-agent`, `writer-agent`, `demo-team`, `demo-workflow` and
`approval-workflow`, answering with the demo brain, with a memory store, a memory model and
`anthropic:<model-id>` models. When AGENT_OS_SECURITY_KEY is set, every call sends it as
`Authorization: Bearer <key>`. The memory, session and knowledge checks live in memories.py,
sessions.py and knowledge.py; the knowledge checks expect the demo docs as a fresh server holds
them, and empty the knowledge base at the end.

Prints one line per client method with what the client parsed; exits 1 at the first failure,
naming the method, what the client raised or what was wrong, and (for HTTP errors) what the
server sent. With --keep-going it checks the remaining methods too (and still exits 1).
"""

import asyncio
import os
import sys

import httpx
from agno.client import AgentOSClient
from agno.run.base import RunStatus

from checks import CheckFailed, check, contains, describe, equal, fresh, status
from evals import EVAL_METHODS, Evals
from knowledge import KNOWLEDGE_METHODS, Knowledge
from memories import MEMORY_METHODS, Memories
from metrics import METRICS_METHODS, Metrics
from sessions import SESSION_METHODS, Sessions
from traces import TRACE_METHODS, Traces

WEATHER_PARIS = "It is sunny and 21C in Paris."

def names(events):
    return [event.event for event in events]


def in_order(events, expected, what):
    """`expected` appears in the event names, in this order (other events may come between)."""
    seen = names(events)
    position = 0
    for name in seen:
        if position < len(expected) and name == expected[position]:
            position += 1
    check(position == len(expected), f"{what}: expected events in order {expected}, got {seen}")


def first_and_last(events, first, last, what):
    seen = names(events)
    check(seen, f"{what}: the stream had no events")
    equal(seen[0], first, f"{what}: first event")
    equal(seen[-1], last, f"{what}: last event")


def one_run_id(events, what, expected=None, owner=None):
    """The run id every event of the run's owner carries (`owner`: a key and a value, such as ("agent_id", "x"))."""
    own = [event for event in events if owner is None or getattr(event, owner[0], None) == owner[1]]
    ids = {event.run_id for event in own}
    check(len(ids) == 1 and None not in ids, f"{what}: expected one run id on the run's own events, got {ids}")
    run_id = ids.pop()
    if expected is not None:
        equal(run_id, expected, f"{what}: run id")
    return run_id


def tool_of(events, name, tool_name):
    """The `tool` of the first event called `name` about `tool_name`."""
    for event in events:
        tool = getattr(event, "tool", None)
        if event.event == name and tool is not None and tool.tool_name == tool_name:
            return tool
    raise CheckFailed(f"no {name} event for {tool_name}; events: {names(events)}")


class Compat:
    def __init__(self, base_url, key):
        self.client = AgentOSClient(base_url=base_url, timeout=60)
        self.headers = {"Authorization": f"Bearer {key}"} if key else None

    async def collect(self, stream):
        return [event async for event in stream]

    # Discovery

    def get_config(self):
        config = self.client.get_config(headers=self.headers)
        return self.config_summary(config)

    async def aget_config(self):
        config = await self.client.aget_config(headers=self.headers)
        return self.config_summary(config)

    def config_summary(self, config):
        equal(config.os_id, "demo-os", "os_id")
        equal(config.name, "Demo AgentOS", "name")
        agents = [agent.id for agent in config.agents]
        equal(agents, ["weather-agent", "approval-agent", "writer-agent"], "config agents")
        equal([team.id for team in config.teams], ["demo-team"], "config teams")
        workflows = [workflow.id for workflow in config.workflows]
        equal(workflows, ["demo-workflow", "approval-workflow"], "config workflows")
        check(isinstance(config.databases, list), f"databases: {config.databases!r}")
        return f"os_id={config.os_id} agents={agents} teams=['demo-team'] workflows={workflows}"

    async def list_agents(self):
        agents = await self.client.list_agents(headers=self.headers)
        ids = [agent.id for agent in agents]
        equal(ids, ["weather-agent", "approval-agent", "writer-agent"], "agent ids")
        equal(agents[0].name, "Weather Agent", "agent name")
        return f"{ids}"

    def get_agent(self):
        agent = self.client.get_agent("weather-agent", headers=self.headers)
        return self.agent_summary(agent, "Weather Agent", "get_weather")

    async def aget_agent(self):
        agent = await self.client.aget_agent("approval-agent", headers=self.headers)
        summary = self.agent_summary(agent, "Approval Agent", "delete_city")
        tools = agent.tools["tools"]
        check(tools[0].get("requires_confirmation") is True, f"delete_city requires_confirmation: {tools[0]!r}")
        try:
            await self.client.aget_agent("no-such-agent", headers=self.headers)
        except httpx.HTTPStatusError as error:
            equal(error.response.status_code, 404, "unknown agent status")
        else:
            raise CheckFailed("an unknown agent did not raise")
        return summary + ", unknown agent -> 404"

    def agent_summary(self, agent, name, tool):
        equal(agent.name, name, "agent name")
        check(isinstance(agent.tools, dict), f"tools must be an object, got {agent.tools!r}")
        tool_names = [entry.get("name") for entry in agent.tools.get("tools", [])]
        check(tool in tool_names, f"tools: expected {tool}, got {tool_names}")
        return f"id={agent.id} name={agent.name!r} tools={tool_names}"

    async def list_teams(self):
        teams = await self.client.list_teams(headers=self.headers)
        equal([team.id for team in teams], ["demo-team"], "team ids")
        return f"{[team.id for team in teams]} mode={teams[0].mode}"

    def get_team(self):
        return self.team_summary(self.client.get_team("demo-team", headers=self.headers))

    async def aget_team(self):
        return self.team_summary(await self.client.aget_team("demo-team", headers=self.headers))

    def team_summary(self, team):
        equal(team.name, "Demo Team", "team name")
        members = [member.id for member in team.members or []]
        equal(members, ["weather-agent", "approval-agent"], "team members")
        check(team.tools is None or isinstance(team.tools, dict), f"team tools must be an object: {team.tools!r}")
        return f"id={team.id} members={members}"

    async def list_workflows(self):
        workflows = await self.client.list_workflows(headers=self.headers)
        ids = [workflow.id for workflow in workflows]
        equal(ids, ["demo-workflow", "approval-workflow"], "workflow ids")
        return f"{ids}"

    def get_workflow(self):
        return self.workflow_summary(self.client.get_workflow("demo-workflow", headers=self.headers), ["research", "write"])

    async def aget_workflow(self):
        workflow = await self.client.aget_workflow("approval-workflow", headers=self.headers)
        return self.workflow_summary(workflow, ["approve", "write"])

    def workflow_summary(self, workflow, steps):
        check(isinstance(workflow.steps, list), f"steps must be a list: {workflow.steps!r}")
        step_names = [step.get("name") for step in workflow.steps]
        equal(step_names, steps, "workflow steps")
        return f"id={workflow.id} steps={step_names}"

    # Agents

    async def run_agent(self):
        session = fresh("agent")
        output = await self.client.run_agent(
            "weather-agent", "What's the weather in Paris?", session_id=session, user_id="compat-user", headers=self.headers
        )
        equal(output.status, RunStatus.completed, "status")
        check(output.run_id, "run_id is empty")
        equal(output.session_id, session, "session_id")
        equal(output.user_id, "compat-user", "user_id")
        equal(output.agent_id, "weather-agent", "agent_id")
        contains(output.content, WEATHER_PARIS, "content")
        check(output.tools, f"no tool executions: {output.tools!r}")
        tool = output.tools[0]
        equal(tool.tool_name, "get_weather", "tool_name")
        equal(tool.tool_args, {"city": "Paris"}, "tool_args")
        equal(tool.result, WEATHER_PARIS, "tool result")
        check(output.metrics is not None and (output.metrics.total_tokens or 0) > 0, f"metrics: {output.metrics!r}")
        generated = await self.client.run_agent("weather-agent", "Weather in Rome?", headers=self.headers)
        equal(generated.status, RunStatus.completed, "status without a session")
        check(generated.session_id, "no session_id generated for a run without one")
        check(generated.session_id != session, "the generated session id repeats the given one")
        return (
            f"status={status(output.status)} run_id={output.run_id} session_id={output.session_id} "
            f"tool={tool.tool_name}({tool.tool_args}) -> {tool.result!r}; generated session_id={generated.session_id}"
        )

    async def run_agent_stream(self):
        session = fresh("agent-stream")
        events = await self.collect(
            self.client.run_agent_stream("weather-agent", "Weather in Paris?", session_id=session, headers=self.headers)
        )
        what = "run_agent_stream"
        first_and_last(events, "RunStarted", "RunCompleted", what)
        in_order(events, ["RunStarted", "RunContent", "ToolCallStarted", "ToolCallCompleted", "RunContent", "RunCompleted"], what)
        run_id = one_run_id(events, what)
        equal({event.session_id for event in events}, {session}, "session ids")
        started = tool_of(events, "ToolCallStarted", "get_weather")
        equal(started.tool_args, {"city": "Paris"}, "started tool_args")
        completed = tool_of(events, "ToolCallCompleted", "get_weather")
        equal(completed.result, WEATHER_PARIS, "completed tool result")
        final = events[-1]
        contains(final.content, WEATHER_PARIS, "RunCompleted content")
        deltas = "".join(event.content or "" for event in events if event.event == "RunContent")
        contains(deltas, WEATHER_PARIS, "RunContent deltas")
        return f"{len(events)} events {compact(names(events))} run_id={run_id}"

    async def pause_agent(self, city):
        session = fresh("approve")
        paused = await self.client.run_agent("approval-agent", f"Delete {city}", session_id=session, headers=self.headers)
        equal(paused.status, RunStatus.paused, "paused status")
        check(paused.tools, "a paused run lists no tools")
        tool = paused.tools[0]
        equal(tool.tool_name, "delete_city", "paused tool_name")
        equal(tool.tool_args, {"city": city}, "paused tool_args")
        check(tool.requires_confirmation is True, f"requires_confirmation: {tool.requires_confirmation!r}")
        check(tool.result is None, f"a paused call has no result: {tool.result!r}")
        check(paused.requirements, "a paused run lists no requirements")
        return session, paused

    async def continue_agent_run(self):
        session, paused = await self.pause_agent("Paris")
        for tool in paused.tools:
            tool.confirmed = True
        done = await self.client.continue_agent_run(
            "approval-agent", paused.run_id, paused.tools, session_id=session, headers=self.headers
        )
        equal(done.status, RunStatus.completed, "approved status")
        equal(done.run_id, paused.run_id, "approved run_id")
        contains(done.content, "Deleted Paris", "approved content")
        ran = [tool for tool in done.tools if tool.tool_name == "delete_city"]
        check(ran and ran[0].result and "Deleted Paris" in ran[0].result, f"approved tools: {done.tools!r}")

        session, rejected = await self.pause_agent("Lisbon")
        for tool in rejected.tools:
            tool.confirmed = False
            tool.confirmation_note = "not today"
        refused = await self.client.continue_agent_run(
            "approval-agent", rejected.run_id, rejected.tools, session_id=session, headers=self.headers
        )
        equal(refused.status, RunStatus.completed, "rejected status")
        equal(refused.run_id, rejected.run_id, "rejected run_id")
        contains(refused.content, "not done", "rejected content")
        check("Deleted" not in (refused.content or ""), f"a rejected call ran: {refused.content!r}")
        return (
            f"PAUSED -> approve -> {status(done.status)} {done.content!r}; "
            f"PAUSED -> reject -> {status(refused.status)} {refused.content!r} (same run ids)"
        )

    async def continue_agent_run_stream(self):
        session = fresh("approve-stream")
        pause_events = await self.collect(
            self.client.run_agent_stream("approval-agent", "Delete Oslo", session_id=session, headers=self.headers)
        )
        what = "run_agent_stream (pause)"
        first_and_last(pause_events, "RunStarted", "RunPaused", what)
        paused = pause_events[-1]
        run_id = one_run_id(pause_events, what)
        check(paused.tools and paused.tools[0].requires_confirmation, f"RunPaused tools: {paused.tools!r}")
        check(paused.requirements, f"RunPaused requirements: {paused.requirements!r}")
        for tool in paused.tools:
            tool.confirmed = True
        events = await self.collect(
            self.client.continue_agent_run_stream(
                "approval-agent", run_id, paused.tools, session_id=session, headers=self.headers
            )
        )
        what = "continue_agent_run_stream"
        first_and_last(events, "RunContinued", "RunCompleted", what)
        in_order(events, ["RunContinued", "ToolCallStarted", "ToolCallCompleted", "RunCompleted"], what)
        one_run_id(events, what, expected=run_id)
        equal(tool_of(events, "ToolCallCompleted", "delete_city").result, "Deleted Oslo from the saved cities.", "result")
        contains(events[-1].content, "Deleted Oslo", "RunCompleted content")
        return f"pause {compact(names(pause_events))}; continue {compact(names(events))} run_id={run_id}"

    async def cancel_agent_run(self):
        unknown = await self.client.cancel_agent_run("weather-agent", "no-such-run", headers=self.headers)
        done = await self.client.run_agent("weather-agent", "Weather in Paris?", session_id=fresh("cancel"), headers=self.headers)
        finished = await self.client.cancel_agent_run("weather-agent", done.run_id, headers=self.headers)
        return f"unknown run -> {unknown!r}; finished run -> {finished!r}"

    # Teams

    async def run_team(self):
        session = fresh("team")
        output = await self.client.run_team(
            "demo-team", "What's the weather in Rome?", session_id=session, user_id="compat-user", headers=self.headers
        )
        equal(output.status, RunStatus.completed, "status")
        equal(output.team_id, "demo-team", "team_id")
        equal(output.session_id, session, "session_id")
        contains(output.content, "It is sunny and 21C in Rome.", "content")
        delegated = [tool for tool in output.tools or [] if tool.tool_name == "delegate_task_to_member"]
        check(delegated, f"no delegation among the tools: {output.tools!r}")
        equal(delegated[0].tool_args.get("member_id"), "weather-agent", "delegated member")
        contains(delegated[0].result, "21C in Rome", "delegation result")
        generated = await self.client.run_team("demo-team", "Weather in Oslo?", headers=self.headers)
        check(generated.session_id and generated.session_id != session, f"generated session_id: {generated.session_id!r}")
        return (
            f"status={status(output.status)} run_id={output.run_id} "
            f"delegate_task_to_member({delegated[0].tool_args}) -> {delegated[0].result!r}; "
            f"generated session_id={generated.session_id}"
        )

    async def run_team_stream(self):
        session = fresh("team-stream")
        events = await self.collect(
            self.client.run_team_stream("demo-team", "Weather in Rome?", session_id=session, headers=self.headers)
        )
        what = "run_team_stream"
        first_and_last(events, "TeamRunStarted", "TeamRunCompleted", what)
        in_order(
            events,
            ["TeamRunStarted", "TeamToolCallStarted", "RunStarted", "ToolCallStarted", "ToolCallCompleted", "RunCompleted",
             "TeamToolCallCompleted", "TeamRunCompleted"],
            what,
        )
        team_run = one_run_id(events, what, owner=("event", "TeamRunStarted"))
        team_events = [event for event in events if event.event.startswith("Team")]
        one_run_id(team_events, what + " (team events)", expected=team_run)
        member = [event for event in events if event.event == "RunStarted"]
        equal(getattr(member[0], "agent_id", None), "weather-agent", "member agent_id")
        contains(events[-1].content, "It is sunny and 21C in Rome.", "TeamRunCompleted content")
        return f"{len(events)} events {compact(names(events))} run_id={team_run}"

    async def pause_team(self, city):
        session = fresh("team-approve")
        paused = await self.client.run_team("demo-team", f"Delete {city}", session_id=session, headers=self.headers)
        equal(paused.status, RunStatus.paused, "paused status")
        check(paused.requirements, f"a paused team run lists no requirements: {paused!r}")
        requirement = paused.requirements[0]
        equal(requirement.tool_execution.tool_name, "delete_city", "requirement tool")
        equal(requirement.tool_execution.tool_args, {"city": city}, "requirement tool_args")
        check(requirement.needs_confirmation, "the requirement does not need confirmation")
        return session, paused

    async def continue_team_run(self):
        session, paused = await self.pause_team("Rome")
        for requirement in paused.requirements:
            requirement.confirm()
        done = await self.client.continue_team_run(
            "demo-team", paused.run_id, paused.requirements, session_id=session, headers=self.headers
        )
        equal(done.status, RunStatus.completed, "approved status")
        equal(done.run_id, paused.run_id, "approved run_id")
        contains(done.content, "Deleted Rome", "approved content")

        session, rejected = await self.pause_team("Berlin")
        for requirement in rejected.requirements:
            requirement.reject("not today")
        refused = await self.client.continue_team_run(
            "demo-team", rejected.run_id, rejected.requirements, session_id=session, headers=self.headers
        )
        equal(refused.status, RunStatus.completed, "rejected status")
        equal(refused.run_id, rejected.run_id, "rejected run_id")
        contains(refused.content, "not done", "rejected content")
        return (
            f"PAUSED -> confirm -> {status(done.status)} {done.content!r}; "
            f"PAUSED -> reject -> {status(refused.status)} {refused.content!r} (same run ids)"
        )

    async def continue_team_run_stream(self):
        session = fresh("team-approve-stream")
        pause_events = await self.collect(
            self.client.run_team_stream("demo-team", "Delete Madrid", session_id=session, headers=self.headers)
        )
        what = "run_team_stream (pause)"
        first_and_last(pause_events, "TeamRunStarted", "TeamRunPaused", what)
        paused = pause_events[-1]
        check(paused.requirements, f"TeamRunPaused requirements: {paused.requirements!r}")
        for requirement in paused.requirements:
            requirement.confirm()
        events = await self.collect(
            self.client.continue_team_run_stream(
                "demo-team", paused.run_id, paused.requirements, session_id=session, headers=self.headers
            )
        )
        what = "continue_team_run_stream"
        first_and_last(events, "TeamRunContinued", "TeamRunCompleted", what)
        in_order(events, ["TeamRunContinued", "ToolCallStarted", "ToolCallCompleted", "TeamRunCompleted"], what)
        team_events = [event for event in events if event.event.startswith("Team")]
        one_run_id(team_events, what, expected=paused.run_id)
        contains(events[-1].content, "Deleted Madrid", "TeamRunCompleted content")
        return f"pause {compact(names(pause_events))}; continue {compact(names(events))} run_id={paused.run_id}"

    async def cancel_team_run(self):
        result = await self.client.cancel_team_run("demo-team", "no-such-run", headers=self.headers)
        return f"unknown run -> {result!r}"

    # Workflows

    async def run_workflow(self):
        session = fresh("workflow")
        output = await self.client.run_workflow(
            "demo-workflow", "What's the weather in Oslo?", session_id=session, user_id="compat-user", headers=self.headers
        )
        equal(output.status, RunStatus.completed, "status")
        equal(output.workflow_id, "demo-workflow", "workflow_id")
        equal(output.session_id, session, "session_id")
        contains(output.content, "It is sunny and 21C in Oslo.", "content")
        equal(len(output.step_results), 2, "step results")
        generated = await self.client.run_workflow("demo-workflow", "Weather in Rome?", headers=self.headers)
        check(generated.session_id and generated.session_id != session, f"generated session_id: {generated.session_id!r}")
        return (
            f"status={status(output.status)} run_id={output.run_id} steps={len(output.step_results)} "
            f"content={output.content!r}; generated session_id={generated.session_id}"
        )

    async def run_workflow_stream(self):
        session = fresh("workflow-stream")
        events = await self.collect(
            self.client.run_workflow_stream("demo-workflow", "Weather in Oslo?", session_id=session, headers=self.headers)
        )
        what = "run_workflow_stream"
        first_and_last(events, "WorkflowStarted", "WorkflowCompleted", what)
        in_order(
            events,
            ["WorkflowStarted", "StepStarted", "RunStarted", "ToolCallStarted", "ToolCallCompleted", "RunCompleted",
             "StepCompleted", "StepStarted", "RunStarted", "RunCompleted", "StepCompleted", "WorkflowCompleted"],
            what,
        )
        flow_events = [event for event in events if event.event.startswith(("Workflow", "Step"))]
        run_id = one_run_id(flow_events, what)
        steps = [event.step_name for event in events if event.event == "StepStarted"]
        equal(steps, ["research", "write"], "step names")
        agents = [getattr(event, "agent_id", None) for event in events if event.event == "RunStarted"]
        equal(agents, ["weather-agent", "writer-agent"], "step agents")
        contains(events[-1].content, "It is sunny and 21C in Oslo.", "WorkflowCompleted content")
        return f"{len(events)} events {compact(names(events))} run_id={run_id}"

    async def pause_workflow(self, city):
        session = fresh("workflow-approve")
        paused = await self.client.run_workflow("approval-workflow", f"Delete {city}", session_id=session, headers=self.headers)
        equal(paused.status, RunStatus.paused, "paused status")
        check(paused.step_requirements, f"a paused workflow run lists no step requirements: {paused!r}")
        return session, paused

    async def continue_workflow_run(self):
        session, paused = await self.pause_workflow("Oslo")
        for requirement in paused.step_requirements:
            requirement.confirm()
        done = await self.client.continue_workflow_run(
            "approval-workflow", paused.run_id, paused.step_requirements, session_id=session, headers=self.headers
        )
        equal(done.status, RunStatus.completed, "approved status")
        equal(done.run_id, paused.run_id, "approved run_id")
        contains(done.content, "Deleted Oslo", "approved content")

        session, rejected = await self.pause_workflow("Vienna")
        for requirement in rejected.step_requirements:
            requirement.reject("not today")
        refused = await self.client.continue_workflow_run(
            "approval-workflow", rejected.run_id, rejected.step_requirements, session_id=session, headers=self.headers
        )
        equal(refused.status, RunStatus.completed, "rejected status")
        equal(refused.run_id, rejected.run_id, "rejected run_id")
        contains(refused.content, "not done", "rejected content")
        return (
            f"PAUSED -> confirm -> {status(done.status)} {done.content!r}; "
            f"PAUSED -> reject -> {status(refused.status)} {refused.content!r} (same run ids)"
        )

    async def continue_workflow_run_stream(self):
        session = fresh("workflow-approve-stream")
        pause_events = await self.collect(
            self.client.run_workflow_stream("approval-workflow", "Delete Prague", session_id=session, headers=self.headers)
        )
        what = "run_workflow_stream (pause)"
        check(pause_events and pause_events[0].event == "WorkflowStarted", f"{what}: {names(pause_events)}")
        in_order(pause_events, ["WorkflowStarted", "StepStarted", "RunStarted", "RunPaused"], what)
        flow_events = [event for event in pause_events if event.event.startswith(("Workflow", "Step"))]
        run_id = one_run_id(flow_events, what)
        # The stream names the pending call in the step agent's RunPaused (its requirements);
        # those are what a streaming client has to decide on.
        step_paused = [event for event in pause_events if event.event == "RunPaused"][-1]
        check(step_paused.requirements, f"{what}: RunPaused requirements: {step_paused.requirements!r}")
        for requirement in step_paused.requirements:
            requirement.confirm()
        events = await self.collect(
            self.client.continue_workflow_run_stream(
                "approval-workflow", run_id, step_paused.requirements, session_id=session, headers=self.headers
            )
        )
        what = "continue_workflow_run_stream"
        check(events and events[-1].event == "WorkflowCompleted", f"{what}: last event of {names(events)}")
        in_order(events, ["ToolCallStarted", "ToolCallCompleted", "StepCompleted", "WorkflowCompleted"], what)
        flow_events = [event for event in events if event.event.startswith(("Workflow", "Step"))]
        one_run_id(flow_events, what, expected=run_id)
        contains(events[-1].content, "Deleted Prague", "WorkflowCompleted content")
        return f"pause {compact(names(pause_events))}; continue {compact(names(events))} run_id={run_id}"

    async def cancel_workflow_run(self):
        result = await self.client.cancel_workflow_run("demo-workflow", "no-such-run", headers=self.headers)
        return f"unknown run -> {result!r}"


def compact(event_names):
    """Event names with runs of one name folded: `RunContent×3`."""
    out = []
    for name in event_names:
        if out and out[-1][0] == name:
            out[-1][1] += 1
        else:
            out.append([name, 1])
    return "[" + ", ".join(name if count == 1 else f"{name}x{count}" for name, count in out) + "]"


RUN_METHODS = [
    "get_config", "aget_config", "list_agents", "get_agent", "aget_agent",
    "run_agent", "run_agent_stream", "continue_agent_run", "continue_agent_run_stream", "cancel_agent_run",
    "list_teams", "get_team", "aget_team",
    "run_team", "run_team_stream", "continue_team_run", "continue_team_run_stream", "cancel_team_run",
    "list_workflows", "get_workflow", "aget_workflow",
    "run_workflow", "run_workflow_stream", "continue_workflow_run", "continue_workflow_run_stream", "cancel_workflow_run",
]


async def main(base_url, keep_going):
    compat = Compat(base_url, os.environ.get("AGENT_OS_SECURITY_KEY") or None)
    sections = [
        (compat, RUN_METHODS),
        (Memories(compat.client, compat.headers), MEMORY_METHODS),
        (Sessions(compat.client, compat.headers), SESSION_METHODS),
        (Knowledge(compat.client, compat.headers), KNOWLEDGE_METHODS),
        (Metrics(compat.client, compat.headers), METRICS_METHODS),
        (Evals(compat.client, compat.headers), EVAL_METHODS),
        (Traces(compat.client, compat.headers), TRACE_METHODS),
    ]
    methods = [(method, getattr(section, method)) for section, names in sections for method in names]
    failed = []
    for method, check_method in methods:
        try:
            result = check_method()
            if asyncio.iscoroutine(result):
                result = await result
        except Exception as error:  # noqa: BLE001 - every failure is reported the same way
            print(f"FAIL  {method}: {describe(error)}", flush=True)
            failed.append(method)
            if not keep_going:
                return 1
            continue
        print(f"ok    {method}: {result}", flush=True)
    if failed:
        print(f"{len(failed)} of {len(methods)} client methods failed: {', '.join(failed)}", flush=True)
        return 1
    print(f"all {len(methods)} client methods passed against {base_url}", flush=True)
    return 0


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--keep-going"]
    if len(arguments) != 1:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(arguments[0].rstrip("/"), "--keep-going" in sys.argv[1:])))
