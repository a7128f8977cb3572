"""A second floor for the serving benchmark: the framework the service is
built on, with nothing of ours. An ordinary FastAPI app whose one route reads
the request body and answers the same constant as asgi_floor.py, so the gap
between the two floors is what FastAPI and Starlette cost per request, and
the gap from this one to the service is what the service itself adds."""

from fastapi import FastAPI, Request
from fastapi.responses import Response

from benchmarks.asgi_floor import ANSWER

app = FastAPI()


@app.api_route("/{path:path}", methods=["GET", "POST"])
async def answer(request: Request) -> Response:
    await request.body()  # the whole body, as a service must read it
    return Response(ANSWER, media_type="application/json")
