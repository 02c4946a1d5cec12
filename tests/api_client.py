"""The studio's Gradio API as a writer's script reaches it: ``gradio_client`` on the served test
studio."""


def api_client(url: str, **options):
    """A ``gradio_client.Client`` for the studio at ``url`` (plain HTTP on loopback).

    gradio_client opens a new httpx client for every call it makes, and with certificate checks
    on each one loads the CA bundle first: 50 ms of CPU, for a connection with no TLS to check
    (docs/BENCHMARKS.md, "The test suite's time", fifth round)."""
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=False, **options)
