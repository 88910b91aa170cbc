"""xapi_client over HTTP, against a loopback server that answers as the LRS does while its database is out of
reach (503 with Retry-After): the client waits and sends again, and gives up with the LRS's message."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import xapi_client


@pytest.fixture
def lrs_out_of_reach():
    """A server answering /xapi/about with 503 (Retry-After: 1) `state["outages"]` times, then 200."""
    state = {"outages": 0, "requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["requests"] += 1
            if state["requests"] <= state["outages"]:
                body = json.dumps({"error": {"message": "the database does not answer; try again"}}).encode()
                self.send_response(503)
                self.send_header("Retry-After", "1")
            else:
                body = json.dumps({"version": ["1.0.3"]}).encode()
                self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/xapi", state
    server.shutdown()
    server.server_close()


def test_a_503_is_sent_again_after_retry_after(lrs_out_of_reach):
    url, state = lrs_out_of_reach
    state["outages"] = 2
    assert xapi_client.connect(url, "k", "s").about() == {"version": ["1.0.3"]}
    assert state["requests"] == 3


def test_an_outage_longer_than_the_retries_is_refused_with_the_lrs_message(lrs_out_of_reach):
    url, state = lrs_out_of_reach
    state["outages"] = 10
    with pytest.raises(xapi_client.Refused) as refused:
        xapi_client.connect(url, "k", "s", retries=1).about()
    assert refused.value.status == 503
    assert "database does not answer" in refused.value.message
    assert state["requests"] == 2
