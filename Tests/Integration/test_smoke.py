"""The server starts on the tiny fixture model and answers /health and /v1/models."""
from conftest import FIXTURES


def test_health_and_models(start_server):
    import requests
    server = start_server("--model", str(FIXTURES / "tiny" / "hf-tiny-llama"))
    assert requests.get(server.url + "/health").json()["status"] == "ok"
    models = requests.get(server.url + "/v1/models").json()
    assert models["object"] == "list" and len(models["data"]) == 1
