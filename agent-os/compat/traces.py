"""The trace methods of AgentOSClient against the demo AgentOS, whose runs are traced into its database:
list traces (filters, paging), read one as its span tree and one span, per-session stats, and search."""

import asyncio

from agno.os.routers.traces.schemas import TraceDetail, TraceNode, TraceSearchGroupBy, TraceSessionStats, TraceSummary

from checks import check, equal, fresh, http_status

TRACE_METHODS = ["get_traces", "get_trace", "get_trace_session_stats", "search_traces"]


class Traces:
    def __init__(self, client, headers):
        self.client = client
        self.headers = headers
        self.session = fresh("traced")
        self.trace_id = None

    async def traced_run(self):
        """A fresh weather run, and its trace once the layer has stored it (bounded wait)."""
        output = await self.client.run_agent("weather-agent", "Weather in Paris?", session_id=self.session, user_id="tracer", headers=self.headers)
        for _ in range(100):
            page = await self.client.get_traces(run_id=output.run_id, headers=self.headers)
            if page.data:
                return output, page.data[0]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no trace of run {output.run_id}")

    async def get_traces(self):
        output, summary = await self.traced_run()
        check(isinstance(summary, TraceSummary), f"a summary {summary!r}")
        equal((summary.run_id, summary.session_id, summary.agent_id, summary.status), (output.run_id, self.session, "weather-agent", "OK"), "the trace's ids")
        check(summary.total_spans >= 4 and summary.error_count == 0, f"spans {summary.total_spans}, errors {summary.error_count}")
        self.trace_id = summary.trace_id
        by_agent = await self.client.get_traces(agent_id="weather-agent", limit=1, page=1, headers=self.headers)
        check(by_agent.meta.total_count >= 1 and len(by_agent.data) == 1, f"by agent {by_agent.meta}")
        none = await self.client.get_traces(agent_id="no-such-agent", headers=self.headers)
        equal(none.data, [], "another agent's traces")
        return f"trace {summary.trace_id}: {summary.name} {summary.status}, {summary.total_spans} spans, {summary.duration}"

    async def get_trace(self):
        detail = await self.client.get_trace(self.trace_id, headers=self.headers)
        check(isinstance(detail, TraceDetail), f"a detail {detail!r}")
        root = detail.tree[0]
        kinds = [node.type for node in root.spans or []]
        check("LLM" in kinds and "TOOL" in kinds, f"the span tree {kinds}")
        tool = [node for node in root.spans if node.type == "TOOL"][0]
        equal(tool.name, "get_weather", "the tool span")
        span = await self.client.get_trace(self.trace_id, span_id=tool.id, headers=self.headers)
        check(isinstance(span, TraceNode) and span.id == tool.id, f"one span {span!r}")
        missing = await http_status(self.client.get_trace("no-such-trace", headers=self.headers))
        equal(missing, 404, "an unknown trace")
        return f"{root.type} {root.name} -> {kinds}; span {tool.name}; unknown -> 404"

    async def get_trace_session_stats(self):
        stats = await self.client.get_trace_session_stats(user_id="tracer", headers=self.headers)
        mine = [row for row in stats.data if row.session_id == self.session]
        check(mine and isinstance(mine[0], TraceSessionStats), f"stats {stats.data}")
        check(mine[0].total_traces >= 1, f"traces {mine[0].total_traces}")
        return f"{len(stats.data)} session(s) for the user; {self.session}: {mine[0].total_traces} trace(s)"

    async def search_traces(self):
        runs = await self.client.search_traces(filter_expr={"op": "EQ", "key": "session_id", "value": self.session}, headers=self.headers)
        check(runs.data and all(isinstance(row, TraceDetail) for row in runs.data), f"by run {runs.data}")
        equal({row.session_id for row in runs.data}, {self.session}, "the filter")
        sessions = await self.client.search_traces(filter_expr=None, group_by=TraceSearchGroupBy.SESSION, headers=self.headers)
        check(sessions.data and isinstance(sessions.data[0], TraceSessionStats), f"by session {sessions.data}")
        bad = await http_status(self.client.search_traces(filter_expr={"op": "NOPE", "key": "x"}, headers=self.headers))
        equal(bad, 400, "a bad filter")
        return f"session filter -> {len(runs.data)} trace(s); grouped by session -> {len(sessions.data)}; bad filter -> 400"
