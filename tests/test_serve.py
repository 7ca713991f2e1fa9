"""`socialcredit serve`: runs asked for through the API execute in worker processes while the
server keeps answering, can be cancelled, and continue after a restart; and what a server
must refuse: paths outside its data folder, requests without its token, runs beyond its
limits, a full queue, unescaped text, and anything but plain data from a client."""

from __future__ import annotations

import http.client
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
import uvicorn
from fastapi.testclient import TestClient

import socialcredit
from socialcredit.cli import main
from socialcredit.scenario.load import resolve as scenario_text
from socialcredit.serve import Settings, create_app
from socialcredit.serve.server import bind, hosts_for

PAGES = Path(socialcredit.__file__).parent / "serve" / "pages"


class Served:
    """The application under uvicorn on a free loopback port, in a thread of this process
    (its runs go to worker processes like a real server's)."""

    def __init__(self, settings: Settings):
        sock = bind("127.0.0.1", 0)
        self.port = sock.getsockname()[1]
        self.app = create_app(settings, hosts=hosts_for("127.0.0.1", self.port))
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> None:
        """Stop as Ctrl-C would: the queue's workers write their checkpoints and end."""
        self.client.close()
        self.server.should_exit = True
        self.thread.join(60)

    def raw(self, path: str) -> tuple[int, str]:
        """GET `path` exactly as written (httpx would tidy '..' away before sending)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def wait(self, run_id: str, until=lambda s: s["status"] not in ("queued", "running"),
             seconds: float = 120) -> dict:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            s = self.client.get(f"/api/runs/{run_id}").json()
            if until(s):
                return s
            time.sleep(0.1)
        raise AssertionError(f"run {run_id} never reached the state asked for: {s}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    s = Served(Settings(data=data, max_population=200_000, max_days=4000, max_queued=4,
                        checkpoint_every=50))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def finished(served):
    """A run asked for through the API, watched to its end: (id, its events, the latencies
    of requests made while it computed)."""
    r = served.client.post("/api/runs", json={"scenario": "rongcheng", "population": 100_000,
                                               "days": 150, "seed": 3})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    events: list[dict] = []

    def listen():
        with httpx.stream("GET", f"{served.url}/api/runs/{run_id}/events", timeout=120) as s:
            for line in s.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))

    listener = threading.Thread(target=listen)
    listener.start()
    latencies = []
    end = time.monotonic() + 120
    while time.monotonic() < end:
        t0 = time.perf_counter()
        s = served.client.get(f"/api/runs/{run_id}").json()
        served.client.get("/api/runs")
        took = time.perf_counter() - t0
        if s["status"] == "running" and s["phase"] != "starting":
            latencies.append(took / 2)
        if s["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    listener.join(30)
    return run_id, events, latencies


def test_a_run_completes_in_a_worker_while_the_server_answers(served, finished):
    run_id, events, latencies = finished
    s = served.client.get(f"/api/runs/{run_id}").json()
    assert s["status"] == "done", s
    worker = served.app.state.queue.workers[0].process
    assert worker.pid != os.getpid() and worker.is_alive()
    assert len(latencies) >= 5, "the run ended before the server was asked anything"
    print(f"\nlatency while a run computed: {len(latencies)} requests, p50 "
          f"{1000 * statistics.median(latencies):.1f} ms, max {1000 * max(latencies):.1f} ms")
    assert max(latencies) < 1.0
    # progress came as server-sent events, in order, to the end
    days = [e["day"] for e in events if e["status"] == "running"]
    assert days == sorted(days) and len(set(days)) > 1
    assert events[-1]["status"] == "done" and events[-1]["day"] == 150
    # the folder is an ordinary run folder: the CLI's reader opens it
    res = socialcredit.open_results(served.app.state.settings.data / run_id)
    assert len(res.daily) == 150 and int(res.info["seed"]) == 3
    key = {f["name"]: f["value"] for f in s["key"]}
    assert key["people"] == 700_000  # at real scale
    assert key["listed"] == round(int(res.daily["listed"].iloc[-1]) * float(res.info["scale"]))
    daily = served.client.get(f"/api/runs/{run_id}/daily",
                              params={"columns": "listed,mean_score"}).json()
    assert len(daily["dates"]) == 150 and set(daily["series"]) == {"listed", "mean_score"}


def test_a_finished_run_offers_its_files_and_its_citizens(served, finished):
    run_id = finished[0]
    base = f"/api/runs/{run_id}/files"
    assert served.client.get(f"{base}/results.duckdb").content[8:12] == b"DUCK"
    assert served.client.get(f"{base}/citizens.parquet").content[:4] == b"PAR1"
    assert b"<html" in served.client.get(f"{base}/report.html").content[:2000].lower()
    csv = served.client.get(f"{base}/daily.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == 151
    res = socialcredit.open_results(served.app.state.settings.data / run_id)
    who = int(res.ledger["citizen"].value_counts().index[0])
    story = served.client.get(f"/api/runs/{run_id}/citizens/{who}").json()
    assert story["text"].startswith(f"Citizen {who}")
    assert len(story["changes"]) == int((res.ledger["citizen"] == who).sum())
    r = served.client.get(f"/api/runs/{run_id}/citizens/100000")
    assert r.status_code == 404 and "valid: 0 to 99999" in r.json()["error"]


def test_cancel_stops_a_running_run_and_a_queued_one(served, finished):
    first = served.client.post("/api/runs", json={"scenario": "rongcheng",
                                                   "population": 50_000, "days": 3000}).json()
    second = served.client.post("/api/runs", json={"scenario": "rongcheng",
                                                    "population": 1000, "days": 10}).json()
    served.wait(first["id"], lambda s: s["day"] > 0)
    r = served.client.post(f"/api/runs/{second['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert not (served.app.state.settings.data / second["id"]).exists()
    assert served.client.post(f"/api/runs/{first['id']}/cancel").status_code == 200
    s = served.wait(first["id"])
    assert s["status"] == "cancelled" and s["day"] < 3000
    again = served.client.post(f"/api/runs/{first['id']}/cancel")
    assert again.status_code == 409 and "cancelled" in again.json()["error"]
    # the queue goes on with a fresh worker
    third = served.client.post("/api/runs", json={"scenario": "rongcheng",
                                                   "population": 1000, "days": 5}).json()
    assert served.wait(third["id"])["status"] == "done"


def test_an_ensemble_runs_its_replicates_and_gives_bands(served, finished):
    r = served.client.post("/api/runs", json={"scenario": "rongcheng", "population": 2000,
                                               "days": 20, "seed": 7, "replicates": 3})
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "ensemble" and r.json()["unit"] == "replicate"
    ens_id = r.json()["id"]
    s = served.wait(ens_id)
    assert s["status"] == "done" and s["day"] == s["days"] == 3, s
    assert [x["seed"] for x in s["replicates"]] == [7, 8, 9]
    assert set(s["files"]) == {"results.duckdb", "report.html", "daily.csv"}
    # the folder is the CLI's ensemble folder: open_ensemble reads it
    res = socialcredit.open_ensemble(served.app.state.settings.data / ens_id)
    assert len(res.runs) == 3 and set(res.daily["run"]) == {0, 1, 2}
    b = served.client.get(f"/api/runs/{ens_id}/bands",
                          params={"columns": "penalties,mean_score"}).json()
    assert len(b["dates"]) == 20 and b["scale"] == 350.0
    for column in ("penalties", "mean_score"):
        band = b["bands"][column]
        for p5, p25, p50, p75, p95 in zip(*(band[q] for q in ("p5", "p25", "p50", "p75",
                                                              "p95")), strict=True):
            assert p5 <= p25 <= p50 <= p75 <= p95
    key = {f["name"]: f for f in s["key"]}
    assert key["replicates"]["value"] == 3
    assert key["penalties"]["low"] <= key["penalties"]["value"] <= key["penalties"]["high"]
    # an ensemble made elsewhere (as by `socialcredit ensemble --out`) lists as one too
    data = served.app.state.settings.data
    shutil.copytree(data / ens_id, data / "cli-ensemble")
    listed = {x["id"]: x for x in served.client.get("/api/runs").json()}
    assert listed[ens_id]["kind"] == listed["cli-ensemble"]["kind"] == "ensemble"
    assert listed["cli-ensemble"]["source"] == "folder"
    assert listed[finished[0]]["kind"] == "run"
    assert served.client.get("/api/runs/cli-ensemble").json()["kind"] == "ensemble"
    # each kind answers what it keeps, and says where the rest is
    for path, words in ((f"/api/runs/{ens_id}/daily", "/bands"),
                        (f"/api/runs/{ens_id}/citizens/0", "ensemble"),
                        (f"/api/runs/{finished[0]}/bands", "/daily"),
                        (f"/api/runs/{ens_id}/bands?columns=nope", "no daily column")):
        r = served.client.get(path)
        assert 400 <= r.status_code < 500 and words in r.json()["error"], (path, r.text)


def compare_table(served, body: dict) -> dict:
    r = served.client.post("/api/compares", json=body)
    assert r.status_code == 201, r.text
    end = time.monotonic() + 120
    while (c := served.client.get(f"/api/compares/{r.json()['id']}").json())["status"] in (
            "queued", "running") and time.monotonic() < end:
        time.sleep(0.1)
    assert c["status"] == "done", c
    return c["table"]


def test_a_compare_with_another_scenario_gives_both_designs_counts_at_real_scale(served):
    for body, words in (({"scenario": "sesame", "toml": "x"}, "one of them"),
                        ({"scenario": "sesame"}, "nothing to compare"),
                        ({"scenario": "sesame", "other": "suining", "other_toml": "x"},
                         "not both")):
        r = served.client.post("/api/compares", json=body)
        assert r.status_code == 422 and words in r.json()["error"], (body, r.text)
    r = served.client.post("/api/compares", json={"scenario": "sesame", "other_toml": "[x"})
    assert r.status_code == 400 and r.json()["error"].startswith("other_toml:"), r.text
    # two societies of a million people, 2,000 simulated citizens each: one stands for 500
    table = compare_table(served, {"scenario": "sesame", "other": "suining", "seeds": 2,
                                   "population": 2000, "days": 10})
    assert (table["a"], table["b"], table["what"]) == ("sesame", "suining", "sesame vs suining")
    rows = {x["outcome"]: x for x in table["rows"]}
    assert table["scale"] == 500.0
    assert rows["acts_committed"]["scale"] == 500.0 and rows["acts_committed"]["kind"] == "total"
    assert rows["listed"]["kind"] == "last day"
    assert rows["mean_score"]["scale"] == 1.0  # a score, not a count of people
    assert rows["mean_score"]["a"] != rows["mean_score"]["b"]  # two designs, two figures


def test_a_compare_of_pasted_toml_and_of_a_second_scenario_with_changes(served):
    from socialcredit.scenario import load

    # A pasted as TOML against the same built-in: the same design on the same seeds gives
    # the same runs, so every difference is exactly 0
    text = load("sesame")[1].replace('name = "sesame"', 'name = "my-sesame"', 1)
    assert "my-sesame" in text
    same = {"toml": text, "other": "sesame", "seeds": 2, "population": 2000, "days": 10}
    table = compare_table(served, same)
    assert (table["a"], table["b"]) == ("my-sesame", "sesame")
    assert table["rows"] and all(x["difference"] == 0 for x in table["rows"])
    # B a second scenario with a change: the change reaches B only
    rule = load("suining")[0].rules[0].act
    changed = {"scenario": "suining", "other": "suining", "seeds": 2, "population": 2000,
               "days": 30, "sets": [f"rules.{rule}.points=-900"]}
    table = compare_table(served, changed)
    assert table["b"] == "suining with changes"
    assert table["what"] == f"suining vs suining with rules.{rule}.points=-900"
    rows = {x["outcome"]: x for x in table["rows"]}
    assert rows["acts_committed"]["difference"] == 0  # the same acts happen in both
    assert rows["mean_score"]["b"] < rows["mean_score"]["a"]  # a rule that takes 900 points


def test_a_run_the_command_line_writes_shows_its_day_live_until_it_is_done(served):
    data = served.app.state.settings.data
    proc = subprocess.Popen([sys.executable, "-m", "socialcredit.cli", "run", "rongcheng",
                             "--population", "40000", "--days", "600", "--quiet",
                             "--no-report", "--out", str(data / "cli-live")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    try:
        # not there before the command has made its folder, then running with a day
        s = served.wait("cli-live", lambda s: s.get("status") == "running" and s["day"] > 0,
                        120)
        assert s["source"] == "folder" and s["days"] == 600
        seen = []
        with served.client.stream("GET", "/api/runs/cli-live/events", timeout=180) as r:
            for line in r.iter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line[5:]))
    finally:
        assert proc.wait(180) == 0, proc.stderr.read()
    running = [x["day"] for x in seen if x["status"] == "running"]
    # the day the run had reached, rising, as the folder's lock file tells it
    assert len(running) >= 2 and running == sorted(running) and running[0] < running[-1] <= 600
    assert seen[-1]["status"] == "done" and all(x["source"] == "folder" for x in seen)
    assert not (data / "cli-live" / ".lock").exists()


def test_a_restarted_server_continues_an_unfinished_run_from_its_checkpoint(tmp_path):
    settings = Settings(data=tmp_path, checkpoint_every=30)
    request = {"scenario": "rongcheng", "population": 20_000, "days": 300, "seed": 5}
    a = Served(settings)
    run_id = a.client.post("/api/runs", json=request).json()["id"]
    a.wait(run_id, lambda s: s["day"] >= 10)
    a.stop()
    record = json.loads((tmp_path / ".serve" / "jobs" / f"{run_id}.json").read_text())
    assert record["status"] == "running"
    assert (tmp_path / run_id / "checkpoint" / "checkpoint.json").is_file()
    b = Served(settings)
    try:
        s = b.client.get(f"/api/runs/{run_id}").json()
        assert s["message"] == "continues from its checkpoint"
        assert b.wait(run_id)["status"] == "done"
        plain_id = b.client.post("/api/runs", json=request).json()["id"]  # never stopped
        assert b.wait(plain_id)["status"] == "done"
    finally:
        b.stop()
    resumed = socialcredit.open_results(tmp_path / run_id)
    plain = socialcredit.open_results(tmp_path / plain_id)
    for table in ("daily", "ledger", "listings"):
        pd.testing.assert_frame_equal(getattr(resumed, table), getattr(plain, table))


TRAVERSALS = ["/api/runs/..", "/api/runs/%2e%2e", "/api/runs/.%2e/daily",
              "/api/runs/..%2f..%2fetc%2fpasswd", "/api/runs/%2Fetc%2Fpasswd",
              "/api/runs/%2e%2e%2f%2e%2e%2fetc/files/report.html", "/api/runs/.serve",
              "/api/runs/escape", "/api/runs/escape/daily", "/api/runs/escape/files/report.html",
              "/api/runs/planted", "/api/runs/planted/files/results.duckdb",
              "/api/runs/RUN/files/..%2f..%2f..%2fetc%2fpasswd", "/api/runs/RUN/files/%2e%2e",
              "/api/runs/RUN/files/%2Fetc%2Fpasswd", "/api/runs/RUN/files/checkpoint",
              "/api/runs/RUN/files/.lock", "/api/runs/RUN/files/citizens.parquet%2f..%2f..",
              "/api/runs/RUN/citizens/..%2f1", "/static/..%2fapi.py", "/static/%2e%2e%2fapp.py",
              "/api/compares/..%2f.serve"]


def test_no_request_reaches_outside_the_data_folder(served, finished, tmp_path):
    data = served.app.state.settings.data
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "results.duckdb").write_bytes(b"secret")
    (outside / "report.html").write_text("secret")
    (data / "escape").symlink_to(outside, target_is_directory=True)
    (data / "planted").mkdir()
    (data / "planted" / "results.duckdb").symlink_to(outside / "results.duckdb")
    for path in TRAVERSALS:
        status, body = served.raw(path.replace("RUN", finished[0]))
        assert 400 <= status < 500, (path, status, body[:200])
        assert "secret" not in body and "root:" not in body, path
        assert json.loads(body)["error"], path


def test_a_non_loopback_host_without_a_token_is_refused(capsys):
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        assert main(["serve", "--host", host]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and "--token" in lines[0], lines


def client(tmp_path, **limits) -> TestClient:
    """The application without workers (its queue takes runs and never starts them)."""
    settings = Settings(data=tmp_path, **limits)
    return TestClient(create_app(settings, start_queue=False), base_url="http://127.0.0.1")


def test_the_form_values_carry_their_units_sources_and_assumptions(tmp_path):
    c = client(tmp_path)
    values = {v["path"]: v for v in c.get("/api/scenarios/rongcheng").json()["values"]}
    units = {p: v["unit"] for p, v in values.items()}
    assert units["acts.littering.rate"] == "per year"
    assert units["rules.littering.points"] == "points"
    assert units["channels.cameras.misattribution"] == "chance, 0 to 1"
    assert units["society.ages.child"] == "share, 0 to 1"
    assert units["lists.blacklist.duration_days"] == "days"
    assert units["acts.littering.spread"] == ""  # the schema does not say one: none shown
    assert all(v["unit"] == "" for v in values.values() if v["kind"] == "switch")
    assert any(v["assumed"] for v in values.values())
    assert all(v["source"] for v in values.values())


def test_a_token_is_needed_for_every_page_and_call_when_set(tmp_path):
    c = client(tmp_path, token="s3cret-token")
    for path in ("/", "/runs", "/static/app.js", "/api/runs", "/api/scenarios",
                 "/openapi.json"):
        r = c.get(path)
        assert r.status_code == 401 and "token" in r.json()["error"], path
    assert c.get("/api/runs", headers={"authorization": "Bearer wrong-token"}).status_code == 401
    assert c.get("/api/runs", headers={"authorization": "Bearer s3cret-token"}).status_code == 200
    assert c.get("/api/runs", headers={"x-token": "s3cret-token"}).status_code == 200
    first = c.get("/runs?token=s3cret-token")
    assert first.status_code == 200 and "socialcredit_token" in first.headers["set-cookie"]
    assert c.get("/api/scenarios").status_code == 200  # the cookie the first page set


def rongcheng_with(title: str = "", name: str = "") -> str:
    text = scenario_text("rongcheng")[1]
    if title:
        text = text.replace('title = "Rongcheng: 1000 points, grades AAA to D, a blacklist"',
                            f"title = {json.dumps(title)}")
    if name:
        text = text.replace('name = "rongcheng"', f"name = {json.dumps(name)}", 1)
    return text


def test_runs_beyond_the_limits_and_a_full_queue_are_refused(tmp_path):
    c = client(tmp_path, max_population=100_000, max_days=400, max_queued=2)
    r = c.post("/api/runs", json={"scenario": "rongcheng", "population": 200_000})
    assert r.status_code == 413
    assert "at most 100,000 (--max-population)" in r.json()["error"]
    r = c.post("/api/runs", json={"scenario": "rongcheng", "population": 50_000, "days": 500})
    assert r.status_code == 413 and "at most 400 (--max-days)" in r.json()["error"]
    r = c.post("/api/runs", json={"scenario": "rongcheng", "population": 50_000,
                                  "until": "2016-12-31"})
    assert r.status_code == 413 and "1,096 days" in r.json()["error"]
    small = client(tmp_path, memory=64 << 20)
    r = small.post("/api/runs", json={"scenario": "rongcheng", "population": 100_000})
    assert r.status_code == 413 and "GiB of memory" in r.json()["error"]
    small_run = {"scenario": "rongcheng", "population": 1000, "days": 5}
    for _ in range(2):
        assert c.post("/api/runs", json=small_run).status_code == 201
    r = c.post("/api/runs", json=small_run)
    assert r.status_code == 429 and "--max-queued 2" in r.json()["error"]


def test_bad_requests_get_one_line_and_a_4xx(tmp_path):
    c = client(tmp_path)
    cases = [({"scenario": "rongcheng", "population": False}, 422, "population"),
             ({"scenario": "rongcheng", "population": "5000"}, 422, "population"),
             ({"scenario": "rongcheng", "seed": 1.5}, 422, "seed"),
             ({"scenario": "rongcheng", "colour": "red"}, 422, "colour"),
             ({"scenario": "rongcheng", "replicates": 0}, 422, "replicates"),
             ({"scenario": "rongcheng", "replicates": 101}, 422, "replicates"),
             ({"scenario": "rongcheng", "replicates": "3"}, 422, "replicates"),
             ({"scenario": "rongcheng", "replicates": 3, "seed": 2**63 - 2}, 422,
              "largest seed"),
             ({"scenario": "rongcheng", "toml": "x"}, 422, "one of them"),
             ({"scenario": "nowhere"}, 404, "valid: china"),
             ({"scenario": "rongcheng", "sets": ["rules.littering.points=abc"]}, 400,
              "give a number"),
             ({"scenario": "rongcheng", "until": "2013-01-01"}, 400, "before the scenario"),
             ({"toml": "[scenario\n"}, 400, "not valid TOML"),
             ({"toml": rongcheng_with(name="<script>x</script>")}, 400, "scenario.name")]
    for body, status, words in cases:
        r = c.post("/api/runs", json=body)
        assert r.status_code == status, (body, r.text)
        message = r.json()["error"]
        assert words in message and "\n" not in message, (body, message)
    r = c.post("/api/check", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_text_from_a_user_is_shown_as_text(tmp_path):
    c = client(tmp_path)
    title = "<script>window.hacked = 1</script><img src=x onerror=alert(1)>"
    r = c.post("/api/check", json={"toml": rongcheng_with(title=title)})
    assert r.status_code == 200 and r.json()["title"] == title
    run = c.post("/api/runs", json={"toml": rongcheng_with(title=title), "days": 5}).json()
    assert run["id"].startswith("rongcheng-")
    page = c.get(f"/runs/{run['id']}")
    assert "<script>window" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # the pages put data into the document as text only
    for js in PAGES.glob("*.js"):
        code = js.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in code, (js.name, sink)


class Runs:
    """Pickled, this object would run a command when read back."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_nothing_a_client_sends_is_unpickled(tmp_path):
    c = client(tmp_path)
    marker = tmp_path / "ran"
    payload = pickle.dumps(Runs(marker))
    for path in ("/api/check", "/api/runs", "/api/compares"):
        for kind in ("application/octet-stream", "application/python-pickle",
                     "application/json"):
            r = c.post(path, content=payload, headers={"content-type": kind})
            assert 400 <= r.status_code < 500, (path, kind, r.status_code)
    r = c.post("/api/check", json={"toml": payload.decode("latin-1")})
    assert r.status_code == 400 and "not valid TOML" in r.json()["error"]
    assert not marker.exists()


def test_no_request_gets_a_server_error(tmp_path):
    """Schemathesis over the whole API, a bounded number of generated requests for each
    operation: every answer is below 500, and every refusal is {"error": one line}. The
    application has no workers and small limits: generated runs are queued, never run."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    app = create_app(Settings(data=tmp_path, max_population=5000, max_days=30, max_queued=3),
                     start_queue=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        if operation.path.endswith("/events"):
            continue  # a stream: the run tests above read it

        @given(case=operation.as_strategy())
        @settings(max_examples=int(os.environ.get("SOCIALCREDIT_FUZZ_EXAMPLES", 10)), deadline=None,
                  database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call()
            assert response.status_code < 500, (case.method, case.formatted_path,
                                                 response.text[:300])
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}, response.text[:300]

        check()
