"""The session methods of AgentOSClient against the demo AgentOS: create (agent, team, workflow), list (filters,
paging, sorting), read (typed and untyped, with the chat history of its runs), runs and run previews (status and
time filters), one run, rename, update, delete and bulk delete."""

import time

from agno.db.base import SessionType
from agno.os.schema import (
    AgentSessionDetailSchema,
    RunSchema,
    SessionRunPreviewSchema,
    SessionSchema,
    TeamRunSchema,
    TeamSessionDetailSchema,
    WorkflowRunSchema,
    WorkflowSessionDetailSchema,
)

from checks import check, contains, equal, fresh, http_status, is_time

SESSION_METHODS = [
    "create_session", "get_session", "get_sessions", "get_session_runs", "get_session_run_previews",
    "aget_session_run_previews", "get_session_run", "rename_session", "update_session", "delete_session",
    "delete_sessions",
]

PARIS = "It is sunny and 21C in Paris."
ROME = "It is sunny and 21C in Rome."
OSLO = "It is sunny and 21C in Oslo."


class Fixture:
    """One user's agent, team and workflow sessions, created over the API, with runs in each."""

    def __init__(self, user, agent, team, workflow, agent_runs, team_run, workflow_run):
        self.user, self.agent, self.team, self.workflow = user, agent, team, workflow
        self.agent_runs, self.team_run, self.workflow_run = agent_runs, team_run, workflow_run


class Sessions:
    def __init__(self, client, headers):
        self.client = client
        self.headers = headers
        self.fixture = None

    async def runs_fixture(self):
        """The shared fixture, made at first use: two weather runs, a team run and a workflow run."""
        if self.fixture is not None:
            return self.fixture
        user, client, headers = fresh("user"), self.client, self.headers
        agent = await client.create_session(
            SessionType.AGENT, session_id=fresh("agent"), user_id=user, session_name="Compat agent chat",
            session_state={"visits": 1}, agent_id="weather-agent", headers=headers,
        )
        team = await client.create_session(
            SessionType.TEAM, session_id=fresh("team"), user_id=user, session_name="Compat team chat",
            team_id="demo-team", headers=headers,
        )
        workflow = await client.create_session(
            SessionType.WORKFLOW, session_id=fresh("workflow"), user_id=user, session_name="Compat workflow chat",
            workflow_id="demo-workflow", headers=headers,
        )
        agent_runs = [
            await client.run_agent("weather-agent", prompt, session_id=agent.session_id, user_id=user, headers=headers)
            for prompt in ("What's the weather in Paris?", "And the weather in Rome?")
        ]
        team_run = await client.run_team(
            "demo-team", "Weather in Oslo?", session_id=team.session_id, user_id=user, headers=headers
        )
        workflow_run = await client.run_workflow(
            "demo-workflow", "Weather in Oslo?", session_id=workflow.session_id, user_id=user, headers=headers
        )
        self.fixture = Fixture(user, agent, team, workflow, agent_runs, team_run, workflow_run)
        return self.fixture

    async def create_session(self):
        user = fresh("user")
        agent = await self.client.create_session(
            SessionType.AGENT, session_id=fresh("created"), user_id=user, session_name="n", session_state={"a": 1},
            metadata={"m": 1}, agent_id="weather-agent", headers=self.headers,
        )
        check(isinstance(agent, AgentSessionDetailSchema), f"agent session: {agent!r}")
        equal(agent.agent_session_id, agent.session_id, "agent_session_id")
        equal(
            (agent.session_name, agent.user_id, agent.agent_id, agent.session_state, agent.metadata),
            ("n", user, "weather-agent", {"a": 1}, {"m": 1}),
            "agent session",
        )
        equal(agent.chat_history, [], "chat history of a new session")
        is_time(agent.created_at, "created_at")
        team = await self.client.create_session(SessionType.TEAM, team_id="demo-team", headers=self.headers)
        check(isinstance(team, TeamSessionDetailSchema), f"team session: {team!r}")
        check(len(team.session_id) >= 32, f"generated session id: {team.session_id!r}")
        equal((team.session_name, team.team_id), ("", "demo-team"), "team session")
        workflow = await self.client.create_session(SessionType.WORKFLOW, workflow_id="demo-workflow", headers=self.headers)
        check(isinstance(workflow, WorkflowSessionDetailSchema), f"workflow session: {workflow!r}")
        equal((workflow.workflow_id, workflow.workflow_name), ("demo-workflow", "Demo Workflow"), "workflow session")
        unknown = await http_status(
            self.client.create_session(SessionType.AGENT, agent_id="no-such-agent", headers=self.headers)
        )
        equal(unknown, 404, "a session for an unknown agent")
        return (
            f"agent {agent.session_id} name={agent.session_name!r} state={agent.session_state}; team id generated "
            f"{team.session_id}; workflow {workflow.workflow_name!r}; unknown agent -> 404"
        )

    async def get_session(self):
        fixture = await self.runs_fixture()
        agent = await self.client.get_session(
            fixture.agent.session_id, session_type=SessionType.AGENT, user_id=fixture.user, headers=self.headers
        )
        check(isinstance(agent, AgentSessionDetailSchema), f"typed read: {agent!r}")
        equal((agent.session_name, agent.agent_id, agent.user_id), ("Compat agent chat", "weather-agent", fixture.user), "agent session")
        history = [(message.get("role"), message.get("content")) for message in agent.chat_history]
        equal(
            history,
            [
                ("user", "What's the weather in Paris?"), ("assistant", "Let me check."), ("tool", PARIS),
                ("assistant", f"Result: {PARIS}"),
                ("user", "And the weather in Rome?"), ("assistant", "Let me check."), ("tool", ROME),
                ("assistant", f"Result: {ROME}"),
            ],
            "chat history",
        )
        call = agent.chat_history[1]["tool_calls"][0]
        equal(call["function"]["name"], "get_weather", "the assistant's tool call")
        check((agent.total_tokens or 0) > 0, f"total_tokens after two runs: {agent.total_tokens!r}")
        untyped = await self.client.get_session(fixture.agent.session_id, headers=self.headers)
        check(isinstance(untyped, AgentSessionDetailSchema), f"untyped agent session: {untyped!r}")
        team = await self.client.get_session(fixture.team.session_id, headers=self.headers)
        check(isinstance(team, TeamSessionDetailSchema), f"untyped team session: {team!r}")
        equal([message["role"] for message in team.chat_history][0], "user", "team chat history")
        contains(team.chat_history[-1]["content"], OSLO, "team chat history")
        workflow = await self.client.get_session(fixture.workflow.session_id, headers=self.headers)
        check(isinstance(workflow, WorkflowSessionDetailSchema), f"untyped workflow session: {workflow!r}")
        other_user = await http_status(
            self.client.get_session(fixture.agent.session_id, user_id=fresh("other"), headers=self.headers)
        )
        wrong_type = await http_status(
            self.client.get_session(fixture.agent.session_id, session_type=SessionType.TEAM, headers=self.headers)
        )
        unknown = await http_status(self.client.get_session("no-such-session", headers=self.headers))
        equal((other_user, wrong_type, unknown), (404, 404, 404), "another user, another type, an unknown id")
        return (
            f"typed {type(agent).__name__} with {len(agent.chat_history)} messages, {agent.total_tokens} tokens; "
            f"untyped -> Agent/{type(team).__name__}/{type(workflow).__name__}; "
            "another user, another type, unknown -> 404"
        )

    async def get_sessions(self):
        fixture = await self.runs_fixture()
        user, headers = fixture.user, self.headers
        mine = await self.client.get_sessions(user_id=user, headers=headers)
        equal(mine.meta.total_count, 3, "the user's sessions")
        check(all(isinstance(item, SessionSchema) for item in mine.data), f"items: {mine.data!r}")
        by_id = {item.session_id: item for item in mine.data}
        agent = by_id[fixture.agent.session_id]
        equal((agent.session_type, agent.agent_id, agent.session_name), ("agent", "weather-agent", "Compat agent chat"), "agent item")
        equal(agent.session_state, {"visits": 1}, "listed session_state")
        is_time(agent.created_at, "listed created_at")
        equal(by_id[fixture.team.session_id].session_type, "team", "team item")
        equal(by_id[fixture.workflow.session_id].session_type, "workflow", "workflow item")
        for kind, session in ((SessionType.AGENT, fixture.agent), (SessionType.TEAM, fixture.team),
                              (SessionType.WORKFLOW, fixture.workflow)):
            typed = await self.client.get_sessions(session_type=kind, user_id=user, headers=headers)
            equal([item.session_id for item in typed.data], [session.session_id], f"type={kind.value}")
        component = await self.client.get_sessions(component_id="demo-team", user_id=user, headers=headers)
        equal([item.session_id for item in component.data], [fixture.team.session_id], "component_id=demo-team")
        named = await self.client.get_sessions(session_name="workflow", user_id=user, headers=headers)
        equal([item.session_id for item in named.data], [fixture.workflow.session_id], "session_name=workflow")
        ascending = await self.client.get_sessions(user_id=user, sort_by="session_name", sort_order="asc", headers=headers)
        names = [item.session_name for item in ascending.data]
        equal(names, ["Compat agent chat", "Compat team chat", "Compat workflow chat"], "sort_by=session_name asc")
        descending = await self.client.get_sessions(user_id=user, sort_by="session_name", sort_order="desc", headers=headers)
        equal([item.session_name for item in descending.data], names[::-1], "sort_by=session_name desc")
        oldest = await self.client.get_sessions(user_id=user, sort_order="asc", headers=headers)
        newest = await self.client.get_sessions(user_id=user, headers=headers)
        stamps = [item.created_at for item in oldest.data]
        equal(stamps, sorted(stamps), "created_at asc")
        equal([item.created_at for item in newest.data], sorted(stamps, reverse=True), "created_at desc")
        check((agent.total_tokens or 0) > 0, f"listed total_tokens: {agent.total_tokens!r}")
        page = await self.client.get_sessions(
            user_id=user, sort_by="session_name", sort_order="asc", limit=1, page=2, headers=headers
        )
        equal([item.session_name for item in page.data], ["Compat team chat"], "page 2 of 1")
        meta = page.meta
        equal((meta.page, meta.limit, meta.total_pages, meta.total_count), (2, 1, 3, 3), "paging meta")
        runner = fresh("user")
        await self.client.run_agent("weather-agent", "Weather in Lisbon?", session_id=fresh("run"), user_id=runner, headers=headers)
        started = await self.client.get_sessions(user_id=runner, headers=headers)
        equal([item.session_name for item in started.data], ["Weather in Lisbon?"], "name of a session a run started")
        return (
            f"user -> 3 (agent, team, workflow); type, component_id, session_name each -> 1; a run's session named "
            f"{started.data[0].session_name!r}; sorted by name both ways, "
            f"by created_at both ways; limit=1 page=2 -> {names[1]!r} meta(total_pages=3, total_count=3)"
        )

    async def get_session_runs(self):
        fixture = await self.runs_fixture()
        session_id, headers = fixture.agent.session_id, self.headers
        runs = await self.client.get_session_runs(session_id, headers=headers)
        equal([run.run_id for run in runs], [run.run_id for run in fixture.agent_runs], "run ids, oldest first")
        check(all(isinstance(run, RunSchema) for run in runs), f"runs: {runs!r}")
        first = runs[0]
        equal((first.agent_id, first.status, first.run_input), ("weather-agent", "COMPLETED", "What's the weather in Paris?"), "run")
        contains(first.content, PARIS, "run content")
        equal([tool["tool_name"] for tool in first.tools], ["get_weather"], "run tools")
        equal([message["role"] for message in first.messages], ["user", "assistant", "tool", "assistant"], "run messages")
        is_time(first.created_at, "run created_at")
        done = await self.client.get_session_runs(session_id, status=["completed"], headers=headers)
        failed = await self.client.get_session_runs(session_id, status=["ERROR", "PAUSED"], headers=headers)
        later = int(time.time()) + 3600
        after = await self.client.get_session_runs(session_id, created_after=later, headers=headers)
        before = await self.client.get_session_runs(session_id, created_before=later, created_after=0, headers=headers)
        counts = (len(done), len(failed), len(after), len(before))
        equal(counts, (2, 0, 0, 2), "status=completed, status=ERROR|PAUSED, created_after=+1h, created_before=+1h")
        team = await self.client.get_session_runs(fixture.team.session_id, headers=headers)
        leader = [run for run in team if isinstance(run, TeamRunSchema)]
        equal([run.run_id for run in leader], [fixture.team_run.run_id], "the team run")
        # Member runs, when a store keeps them in the team's session, name the team run as their parent.
        members = [run for run in team if isinstance(run, RunSchema)]
        check(all(run.parent_run_id == fixture.team_run.run_id for run in members), f"member runs: {team!r}")
        workflow = await self.client.get_session_runs(fixture.workflow.session_id, headers=headers)
        flows = [run for run in workflow if isinstance(run, WorkflowRunSchema)]
        equal([run.run_id for run in flows], [fixture.workflow_run.run_id], "the workflow run")
        contains(flows[0].content, OSLO, "workflow run content")
        return (
            f"{len(runs)} RunSchema; completed/ERROR|PAUSED/after/before -> {counts}; team -> TeamRunSchema + "
            f"{len(members)} member RunSchema; workflow -> WorkflowRunSchema + {len(workflow) - 1} step runs"
        )

    def previews_summary(self, previews, fixture):
        check(all(isinstance(preview, SessionRunPreviewSchema) for preview in previews), f"previews: {previews!r}")
        equal([preview.run_id for preview in previews], [run.run_id for run in fixture.agent_runs], "preview run ids")
        first = previews[0]
        equal((first.status, first.agent_id, first.run_input), ("COMPLETED", "weather-agent", "What's the weather in Paris?"), "preview")
        contains(first.content_preview, PARIS, "content_preview")
        is_time(first.created_at, "preview created_at")
        return f"{len(previews)} previews, first {first.run_input!r} -> {first.content_preview!r}"

    async def get_session_run_previews(self):
        fixture = await self.runs_fixture()
        previews = self.client.get_session_run_previews(fixture.agent.session_id, headers=self.headers)
        return self.previews_summary(previews, fixture)

    async def aget_session_run_previews(self):
        fixture = await self.runs_fixture()
        previews = await self.client.aget_session_run_previews(
            fixture.agent.session_id, status=["COMPLETED"], headers=self.headers
        )
        summary = self.previews_summary(previews, fixture)
        none = await self.client.aget_session_run_previews(fixture.agent.session_id, status=["ERROR"], headers=self.headers)
        equal(none, [], "previews of failed runs")
        return f"status=COMPLETED: {summary}; status=ERROR -> []"

    async def get_session_run(self):
        fixture = await self.runs_fixture()
        wanted = fixture.agent_runs[1]
        run = await self.client.get_session_run(fixture.agent.session_id, wanted.run_id, headers=self.headers)
        check(isinstance(run, RunSchema), f"run: {run!r}")
        equal((run.run_id, run.run_input, run.status), (wanted.run_id, "And the weather in Rome?", "COMPLETED"), "run")
        contains(run.content, ROME, "run content")
        team = await self.client.get_session_run(fixture.team.session_id, fixture.team_run.run_id, headers=self.headers)
        check(isinstance(team, TeamRunSchema), f"team run: {team!r}")
        equal(team.team_id, "demo-team", "team run team_id")
        flow = await self.client.get_session_run(
            fixture.workflow.session_id, fixture.workflow_run.run_id, headers=self.headers
        )
        check(isinstance(flow, WorkflowRunSchema), f"workflow run: {flow!r}")
        unknown = await http_status(self.client.get_session_run(fixture.agent.session_id, "no-such-run", headers=self.headers))
        equal(unknown, 404, "an unknown run")
        return f"RunSchema {run.run_input!r} -> {run.content!r}; TeamRunSchema; WorkflowRunSchema; unknown run -> 404"

    async def rename_session(self):
        user = fresh("user")
        created = await self.client.create_session(
            SessionType.TEAM, user_id=user, team_id="demo-team", session_name="before", headers=self.headers
        )
        renamed = await self.client.rename_session(created.session_id, "after", headers=self.headers)
        check(isinstance(renamed, TeamSessionDetailSchema), f"renamed (untyped): {renamed!r}")
        equal((renamed.session_id, renamed.session_name), (created.session_id, "after"), "renamed session")
        typed = await self.client.rename_session(
            created.session_id, "typed", session_type=SessionType.TEAM, user_id=user, headers=self.headers
        )
        equal(typed.session_name, "typed", "renamed with a type and user")
        listed = await self.client.get_sessions(user_id=user, headers=self.headers)
        equal([item.session_name for item in listed.data], ["typed"], "the listed name")
        foreign = await http_status(
            self.client.rename_session(created.session_id, "x", user_id=fresh("other"), headers=self.headers)
        )
        equal(foreign, 404, "a rename by another user")
        return f"'before' -> {renamed.session_name!r} -> {typed.session_name!r} (listed so); by another user -> 404"

    async def update_session(self):
        user = fresh("user")
        created = await self.client.create_session(
            SessionType.AGENT, user_id=user, agent_id="weather-agent", session_state={"k": 1}, headers=self.headers
        )
        summary = {"summary": "The user asked about the weather.", "updated_at": "2026-01-01T00:00:00Z"}
        updated = await self.client.update_session(
            created.session_id, session_type=SessionType.AGENT, session_name="x", session_state={"k": 2},
            metadata={"m": 2}, summary=summary, user_id=user, headers=self.headers,
        )
        check(isinstance(updated, AgentSessionDetailSchema), f"updated: {updated!r}")
        equal((updated.session_name, updated.session_state, updated.metadata), ("x", {"k": 2}, {"m": 2}), "updated")
        equal((updated.session_summary or {}).get("summary"), summary["summary"], "session_summary")
        state_only = await self.client.update_session(created.session_id, session_state={"k": 3}, headers=self.headers)
        equal((state_only.session_name, state_only.session_state, state_only.metadata), ("x", {"k": 3}, {"m": 2}), "a state-only update")
        read = await self.client.get_session(created.session_id, headers=self.headers)
        equal(read.session_state, {"k": 3}, "state read back")
        listed = await self.client.get_sessions(user_id=user, headers=self.headers)
        equal([(item.session_state, item.metadata) for item in listed.data], [({"k": 3}, {"m": 2})], "listed state and metadata")
        check(listed.data[0].session_summary, f"listed summary: {listed.data[0]!r}")
        return f"name 'x', state {updated.session_state}, metadata {updated.metadata}, summary set; state-only -> {{'k': 3}}, the rest kept"

    async def delete_session(self):
        user = fresh("user")
        created = await self.client.create_session(SessionType.AGENT, user_id=user, agent_id="weather-agent", headers=self.headers)
        session_id = created.session_id
        foreign = await http_status(self.client.delete_session(session_id, user_id=fresh("other"), headers=self.headers))
        equal(foreign, 404, "a delete by another user")
        await self.client.get_session(session_id, headers=self.headers)
        result = await self.client.delete_session(session_id, user_id=user, headers=self.headers)
        gone = await http_status(self.client.get_session(session_id, headers=self.headers))
        equal(gone, 404, "a deleted session")
        again = await http_status(self.client.delete_session(session_id, headers=self.headers))
        equal(again, 404, "deleting it again")
        return f"by another user -> 404 (kept); -> {result!r}; read again -> 404; deleted again -> 404"

    async def delete_sessions(self):
        user, headers = fresh("user"), self.headers
        agent = await self.client.create_session(SessionType.AGENT, user_id=user, agent_id="weather-agent", headers=headers)
        team = await self.client.create_session(SessionType.TEAM, user_id=user, team_id="demo-team", headers=headers)
        workflow = await self.client.create_session(SessionType.WORKFLOW, user_id=user, workflow_id="demo-workflow", headers=headers)
        ids = [agent.session_id, team.session_id]
        await self.client.delete_sessions(ids, [SessionType.AGENT, SessionType.TEAM], user_id=fresh("other"), headers=headers)
        equal((await self.client.get_sessions(user_id=user, headers=headers)).meta.total_count, 3, "after another user's delete")
        result = await self.client.delete_sessions(ids, [SessionType.AGENT, SessionType.TEAM], headers=headers)
        left = await self.client.get_sessions(user_id=user, headers=headers)
        equal([item.session_id for item in left.data], [workflow.session_id], "sessions left")
        gone = [await http_status(self.client.get_session(session_id, headers=headers)) for session_id in ids]
        equal(gone, [404, 404], "deleted sessions")
        return f"-> {result!r}; another user's delete left all 3; agent + team deleted (404), the workflow session kept"
