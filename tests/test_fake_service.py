"""The fake-service base: real HTTP on loopback, routing and request recording."""

import requests
from werkzeug.wrappers import Response

from tests.fakes.service import FakeService


class EchoService(FakeService):
    rules = (
        ("/items/<int:item_id>", "item", ["GET", "PUT"]),
        ("/teapot", "teapot", ["GET"]),
    )

    def on_item(self, request, item_id):
        return self.json_response({"id": item_id, "method": request.method, "q": request.args.get("q")})

    def on_teapot(self, request):
        return Response("short and stout", status=418)


def test_routes_and_records_requests():
    with EchoService() as service:
        assert service.port > 0
        answer = requests.put(f"{service.url}/items/7?q=x", json={"a": 1}, timeout=5)
        assert answer.json() == {"id": 7, "method": "PUT", "q": "x"}
        assert requests.get(f"{service.url}/teapot", timeout=5).status_code == 418
        assert requests.get(f"{service.url}/nowhere", timeout=5).status_code == 404
        assert requests.post(f"{service.url}/items/7", timeout=5).status_code == 405
        [recorded] = service.requests_to("/items", method="PUT")
        assert recorded.json() == {"a": 1}
        assert recorded.args == {"q": "x"}
    assert service._server is None
