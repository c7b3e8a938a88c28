"""The pages (GET): portfolio, question, experts, expert, calibration, the re-forecast status."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from . import views
from .bench import Workbench



def _text(request: Request, name: str) -> str | None:
    return request.query_params.get(name) or None


async def portfolio(bench: Workbench, request: Request) -> Response:
    context = await run_in_threadpool(views.portfolio_page, bench.store, _text(request, "tag"))
    from ..store.vocab import EXPERT_KINDS

    return bench.page(request, "portfolio.html", {**context, "run": bench.runner.snapshot(),
                                                  "expert_kinds": EXPERT_KINDS})


async def question(bench: Workbench, request: Request) -> Response:
    context = await run_in_threadpool(views.question_page, bench.store, request.path_params["slug"],
                                      request.query_params.get("all") == "1")
    template = "question.html" if "run" in context else "question-new.html"
    return bench.page(request, template, {**context, "job": bench.runner.snapshot()})


async def experts(bench: Workbench, request: Request) -> Response:
    context = await run_in_threadpool(views.experts_page, bench.store, _text(request, "kind"))
    return bench.page(request, "experts.html", context)


async def expert(bench: Workbench, request: Request) -> Response:
    context = await run_in_threadpool(views.expert_page, bench.store, request.path_params["name"])
    return bench.page(request, "expert.html", context)


async def calibration(bench: Workbench, request: Request) -> Response:
    context = await run_in_threadpool(views.calibration_page, bench.store, _text(request, "tag"),
                                      _text(request, "question"))
    return bench.page(request, "calibration.html", context)


async def run_status(bench: Workbench, request: Request) -> Response:
    return bench.page(request, "run.html", {"job": bench.runner.snapshot()})


ROUTES = [("/", portfolio, ["GET"]), ("/questions/{slug}", question, ["GET"]),
          ("/experts", experts, ["GET"]), ("/experts/{name:path}", expert, ["GET"]), ("/calibration", calibration, ["GET"]),
          ("/runs/current", run_status, ["GET"])]
