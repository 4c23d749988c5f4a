"""Alerting against a real local HTTP server: Slack-compatible JSON, and the JSONL fallback when the
webhook is missing, failing, unreachable or slow. Never raises."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from resources import Alerting
from resources.alerting import build_payload

FIELDS = {"batches": ["b1", "b2"], "score": 0.31, "threshold": 0.12, "run_key": "drift:b1@abc"}


class Webhook:
    """A webhook on 127.0.0.1:<free port> that records what it receives and answers `status`."""

    def __init__(self, status: int = 200, delay_s: float = 0.0) -> None:
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append({"content_type": self.headers["Content-Type"], "body": json.loads(body)})
                time.sleep(delay_s)
                try:
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    servers = []

    def start(**kwargs) -> Webhook:
        servers.append(Webhook(**kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def log_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_posts_slack_compatible_json(webhook, tmp_path) -> None:
    hook = webhook()
    alerting = Alerting(webhook_url=hook.url, log_path=str(tmp_path / "alerts.log"))
    assert alerting.send("drift.retraining_requested", "drift in b1, b2: training_job requested", FIELDS) == "webhook"
    [request] = hook.received
    body = request["body"]
    assert request["content_type"] == "application/json"
    assert body["text"] == "[clinical] drift in b1, b2: training_job requested"
    assert body["blocks"][0]["type"] == "section" and body["blocks"][-1]["type"] == "context"
    field_texts = [f["text"] for f in body["blocks"][1]["fields"]]
    assert "*batches*\n`b1, b2`" in field_texts and "*score*\n`0.31`" in field_texts
    assert not (tmp_path / "alerts.log").exists()


def test_no_url_writes_the_jsonl_log(tmp_path) -> None:
    alerting = Alerting(log_path=str(tmp_path / "sub" / "alerts.log"))
    assert alerting.send("run.failed", "run of training_job failed", {"job": "training_job"}) == "file"
    [line] = log_lines(tmp_path / "sub" / "alerts.log")
    assert line["event"] == "run.failed" and line["fields"] == {"job": "training_job"}
    assert line["webhook_error"] is None and line["at"]


@pytest.mark.parametrize(("status", "error"), [(500, "HTTPError 500"), (404, "HTTPError 404")])
def test_http_error_falls_back_to_the_log(webhook, tmp_path, status, error) -> None:
    hook = webhook(status=status)
    alerting = Alerting(webhook_url=hook.url, log_path=str(tmp_path / "alerts.log"))
    assert alerting.send("run.failed", "x", {"job": "j"}) == "file"
    assert len(hook.received) == 1
    assert log_lines(tmp_path / "alerts.log")[0]["webhook_error"] == error


def test_unreachable_webhook_falls_back(tmp_path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    alerting = Alerting(webhook_url=f"http://127.0.0.1:{port}/hook", log_path=str(tmp_path / "alerts.log"))
    assert alerting.send("run.failed", "x", {"job": "j"}) == "file"
    assert log_lines(tmp_path / "alerts.log")[0]["webhook_error"] == "URLError"


def test_slow_webhook_times_out_and_falls_back(webhook, tmp_path) -> None:
    hook = webhook(delay_s=1.0)
    alerting = Alerting(webhook_url=hook.url, log_path=str(tmp_path / "alerts.log"), timeout_s=0.2)
    started = time.monotonic()
    assert alerting.send("run.failed", "x", {"job": "j"}) == "file"
    assert time.monotonic() - started < 1.0
    assert log_lines(tmp_path / "alerts.log")[0]["webhook_error"] in {"TimeoutError", "URLError"}


def test_bad_url_and_unwritable_log_never_raise(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    alerting = Alerting(webhook_url="not a url", log_path=str(blocker / "alerts.log"))
    assert alerting.send("run.failed", "x", {"job": "j"}) == "dropped"


def test_only_identifier_fields_are_kept() -> None:
    payload = build_payload("run.failed", "s", {"job": "j", "message": "Patient John Smith", "text": "note", "x": None})
    assert payload["fields"] == {"job": "j"}
    assert "John" not in json.dumps(payload)
    assert Alerting.model_fields["timeout_s"].default == 5.0
