"""The metrics and database methods of AgentOSClient against the demo AgentOS: daily aggregates by date
range, synchronous and background refreshes with their status, and migrations."""

import asyncio
from datetime import date, datetime, timezone

from agno.os.routers.metrics.schemas import DayAggregatedMetrics, MetricsRefreshResponse

from checks import check, equal, http_status, is_time

METRICS_METHODS = ["get_metrics", "refresh_metrics", "get_metrics_refresh_status", "migrate_database"]


class Metrics:
    def __init__(self, client, headers):
        self.client = client
        self.headers = headers

    async def get_metrics(self):
        today = datetime.now(timezone.utc).date()
        everything = await self.client.get_metrics(headers=self.headers)
        check(everything.metrics, "no days of metrics after the runs")
        day = [row for row in everything.metrics if row.date.date() == today]
        check(day, f"no metrics for today ({today}) in {[row.id for row in everything.metrics]}")
        day = day[0]
        equal(day.id, f"{today.isoformat()}_daily", "the day's id")
        check(day.agent_runs_count > 0 and day.team_runs_count > 0 and day.workflow_runs_count > 0, f"runs by kind {day}")
        check(day.agent_sessions_count > 0 and day.users_count > 0, "sessions and users")
        check(day.token_metrics["input_tokens"] > 0, f"tokens {day.token_metrics}")
        check(any(model["model_id"] == "claude-sonnet-4-5" for model in day.model_metrics), f"models {day.model_metrics}")
        ranged = await self.client.get_metrics(starting_date=today, ending_date=today, headers=self.headers)
        equal([row.id for row in ranged.metrics], [day.id], "today only")
        old = await self.client.get_metrics(starting_date=date(2000, 1, 1), ending_date=date(2000, 1, 2), headers=self.headers)
        equal(old.metrics, [], "a range without runs")
        return (
            f"{len(everything.metrics)} day(s); today: agent/team/workflow runs {day.agent_runs_count}/"
            f"{day.team_runs_count}/{day.workflow_runs_count}, users {day.users_count}, "
            f"input tokens {day.token_metrics['input_tokens']}, models {[m['model_id'] for m in day.model_metrics]}"
        )

    async def refresh_metrics(self):
        refreshed = await self.client.refresh_metrics(headers=self.headers)
        check(isinstance(refreshed, list) and refreshed, f"a synchronous refresh returned {refreshed!r}")
        check(all(isinstance(row, DayAggregatedMetrics) for row in refreshed), "days of metrics")
        started = await self.client.refresh_metrics(background=True, headers=self.headers)
        check(isinstance(started, MetricsRefreshResponse), f"a background refresh returned {started!r}")
        return f"sync -> {len(refreshed)} day(s); background -> {started.status!r}"

    async def get_metrics_refresh_status(self):
        for _ in range(100):
            state = await self.client.get_metrics_refresh_status(headers=self.headers)
            if state.status != "running":
                break
            await asyncio.sleep(0.05)
        equal(state.status, "completed", "the refresh's status")
        is_time(state.finished_at, "finished_at")
        return f"{state.status} at {state.finished_at.isoformat()}"

    async def migrate_database(self):
        migrated = await self.client.migrate_database("agent-os-db", headers=self.headers)
        check("migrated" in str(migrated), f"migrate returned {migrated!r}")
        unknown = await http_status(self.client.migrate_database("no-such-db", headers=self.headers))
        equal(unknown, 404, "an unknown database")
        return f"agent-os-db -> {migrated}; unknown db -> 404"
