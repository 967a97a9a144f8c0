"""The eval methods of AgentOSClient against the demo AgentOS: run a reliability, accuracy and performance eval
on a served agent, then list (filters, paging), read, rename and delete the stored eval runs."""

from agno.db.schemas.evals import EvalFilterType, EvalType
from agno.os.routers.evals.schemas import EvalSchema

from checks import check, equal, http_status, is_time

EVAL_METHODS = ["run_eval", "list_eval_runs", "get_eval_run", "update_eval_run", "delete_eval_runs"]


class Evals:
    def __init__(self, client, headers):
        self.client = client
        self.headers = headers
        self.made = []

    async def run_eval(self):
        reliability = await self.client.run_eval(
            EvalType.RELIABILITY,
            "What is the weather in Paris?",
            agent_id="weather-agent",
            expected_tool_calls=["get_weather"],
            headers=self.headers,
        )
        check(isinstance(reliability, EvalSchema), f"run_eval returned {reliability!r}")
        equal(reliability.eval_type, EvalType.RELIABILITY, "eval type")
        equal(reliability.eval_data.get("eval_status"), "PASSED", f"reliability {reliability.eval_data}")
        equal(reliability.agent_id, "weather-agent", "the evaluated agent")
        is_time(reliability.created_at, "created_at")
        missing = await self.client.run_eval(
            EvalType.RELIABILITY, "Hello there", agent_id="weather-agent", expected_tool_calls=["delete_city"], headers=self.headers
        )
        equal(missing.eval_data.get("eval_status"), "FAILED", f"a missing call {missing.eval_data}")
        performance = await self.client.run_eval(
            EvalType.PERFORMANCE, "What is the weather in Rome?", agent_id="weather-agent", num_iterations=3, headers=self.headers
        )
        times = performance.eval_data.get("run_times") or []
        equal(len(times), 3, f"performance run times {performance.eval_data}")
        accuracy = await self.client.run_eval(
            EvalType.ACCURACY,
            "What is the weather in Oslo?",
            agent_id="weather-agent",
            model_id="claude-sonnet-4-5",
            model_provider="anthropic",
            expected_output="It is sunny and 21C in Oslo.",
            headers=self.headers,
        )
        score = accuracy.eval_data.get("avg_score")
        check(isinstance(score, (int, float)), f"accuracy {accuracy.eval_data}")
        unknown = await http_status(self.client.run_eval(EvalType.RELIABILITY, "x", agent_id="nope", headers=self.headers))
        equal(unknown, 404, "an unknown agent")
        self.made = [reliability.id, missing.id, performance.id, accuracy.id]
        return (
            f"reliability PASSED / FAILED, performance {len(times)} runs "
            f"(avg {performance.eval_data.get('avg_run_time')}), accuracy score {score}; unknown agent -> 404"
        )

    async def list_eval_runs(self):
        page = await self.client.list_eval_runs(agent_id="weather-agent", filter_type=EvalFilterType.AGENT, limit=100, headers=self.headers)
        ids = [run.id for run in page.data]
        check(all(made in ids for made in self.made), f"listed {ids}")
        typed = await self.client.list_eval_runs(
            agent_id="weather-agent", eval_types=[EvalType.RELIABILITY, EvalType.ACCURACY], limit=100, headers=self.headers
        )
        kinds = {run.eval_type for run in typed.data}
        check(kinds <= {EvalType.RELIABILITY, EvalType.ACCURACY} and kinds, f"filtered types {kinds}")
        paged = await self.client.list_eval_runs(agent_id="weather-agent", limit=1, page=2, headers=self.headers)
        equal((len(paged.data), paged.meta.page, paged.meta.limit), (1, 2, 1), "page 2 of limit 1")
        check(paged.meta.total_count >= 4, f"total {paged.meta.total_count}")
        return f"{len(ids)} for the agent; reliability+accuracy -> {len(typed.data)}; page 2 of {paged.meta.total_pages}"

    async def get_eval_run(self):
        run = await self.client.get_eval_run(self.made[0], headers=self.headers)
        equal((run.id, run.eval_type), (self.made[0], EvalType.RELIABILITY), "the eval run read back")
        missing = await http_status(self.client.get_eval_run("no-such-eval", headers=self.headers))
        equal(missing, 404, "an unknown eval run")
        return f"{run.id} {run.eval_type.value} {run.eval_data.get('eval_status')}; unknown -> 404"

    async def update_eval_run(self):
        renamed = await self.client.update_eval_run(self.made[0], "renamed", headers=self.headers)
        equal(renamed.name, "renamed", "the new name")
        equal((await self.client.get_eval_run(self.made[0], headers=self.headers)).name, "renamed", "stored")
        return f"{renamed.id} -> {renamed.name!r}"

    async def delete_eval_runs(self):
        await self.client.delete_eval_runs(self.made[:2], headers=self.headers)
        gone = await http_status(self.client.get_eval_run(self.made[0], headers=self.headers))
        equal(gone, 404, "a deleted eval run")
        kept = await self.client.get_eval_run(self.made[2], headers=self.headers)
        equal(kept.id, self.made[2], "an eval run not deleted")
        return f"deleted {len(self.made[:2])}; read again -> 404; the others kept"
