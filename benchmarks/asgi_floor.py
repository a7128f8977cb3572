"""The serving benchmark's floor: a bare ASGI app, no framework, that reads
the request body and answers a constant JSON prediction. Run under the same
uvicorn, options and worker count as the service, it is what the server
alone costs per request."""

ANSWER = b'{"prediction":0,"model_version":"0"}'
HEADERS = [(b"content-type", b"application/json")]


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more_body = True
    while more_body:  # the whole body, as a service must read it
        message = await receive()
        more_body = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})
