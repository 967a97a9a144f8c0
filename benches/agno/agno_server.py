"""Agno's AgentOS serving the two benchmark agents, `instant` and `timer`, for benches/agentos_compare.sh.

`instant` answers at once with a short text; `timer` waits (asyncio.sleep, BENCH_TIMER_SECS, default 120 s)
before answering. No database. Served by uvicorn, one worker, its default loop, no access log.

Usage: python agno_server.py PORT
"""

import asyncio
import os
import sys
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterator

os.environ.setdefault("AGNO_TELEMETRY", "false")

import uvicorn  # noqa: E402
from agno.agent import Agent  # noqa: E402
from agno.models.base import Model  # noqa: E402
from agno.models.response import ModelResponse  # noqa: E402
from agno.os import AgentOS  # noqa: E402

ANSWER = "Hello from the bench model."
TIMER_SECS = float(os.environ.get("BENCH_TIMER_SECS", "120"))


@dataclass
class BenchModel(Model):
    """A model that answers with a fixed text, after `delay` seconds of asyncio sleep."""

    id: str = "bench"
    name: str = "BenchModel"
    provider: str = "bench"
    delay: float = 0.0

    def _answer(self) -> ModelResponse:
        return ModelResponse(role="assistant", content=ANSWER)

    def invoke(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return self._answer()

    async def ainvoke(self, *args: Any, **kwargs: Any) -> ModelResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        return self._answer()

    def invoke_stream(self, *args: Any, **kwargs: Any) -> Iterator[ModelResponse]:
        yield self._answer()

    async def ainvoke_stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[ModelResponse]:
        if self.delay:
            await asyncio.sleep(self.delay)
        yield self._answer()

    def _parse_provider_response(self, response: Any, **kwargs: Any) -> ModelResponse:
        return response

    def _parse_provider_response_delta(self, response: Any) -> ModelResponse:
        return response


def build_app():
    """The AgentOS FastAPI app with agents `instant` and `timer`, no db."""
    instant = Agent(id="instant", name="instant", model=BenchModel(), telemetry=False)
    timer = Agent(id="timer", name="timer", model=BenchModel(delay=TIMER_SECS), telemetry=False)
    agent_os = AgentOS(
        id="bench-os",
        agents=[instant, timer],
        telemetry=False,
        auto_provision_dbs=False,
    )
    return agent_os.get_app()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 7778
    uvicorn.run(build_app(), host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
