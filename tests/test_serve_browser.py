"""`socialcredit serve` in a real browser: headless Chromium from the Debian package, driven
by Playwright (which never downloads a browser of its own). A person launches a small run
from the form, watches it to the end, sees a chart, opens a citizen, runs a compare and
reads an ensemble's bands; no page asks for anything from outside the server, and text a
user typed stays text. Each page's screenshot is saved under a temporary folder (printed
with -s)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import socialcredit
from socialcredit.scenario.load import resolve as scenario_text
from socialcredit.serve import Settings
from test_serve import Served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()



def compare(page, scenario: str, population: str, days: str, sets: str) -> None:
    """Fill the Compare form for A (2 seeds), run it and wait for the result table."""
    page.select_option("#scenario", scenario)
    page.fill("#seeds", "2")
    page.fill("#population", population)
    page.fill("#days", days)
    page.fill("#sets", sets)
    page.click("#run-compare")
    page.wait_for_selector("#result table", timeout=120_000)

def test_a_person_runs_watches_reads_a_citizen_and_compares(browser, tmp_path):
    from playwright.sync_api import expect

    served = Served(Settings(data=tmp_path / "data", max_population=200_000, max_days=400,
                             checkpoint_every=0))
    shots = tmp_path / "screens"
    shots.mkdir()
    print(f"\nscreenshots: {shots}")
    outside: list[str] = []
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def only_this_server(route):
        if route.request.url.startswith(served.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and not
            m.text.startswith("Failed to load resource") else None)  # the refusal asked for
    try:
        page.goto(served.url + "/")
        page.wait_for_selector(".scenario[data-name=rongcheng]")
        page.click(".scenario[data-name=rongcheng] summary")
        page.wait_for_selector(".scenario[data-name=rongcheng] table")
        page.screenshot(path=shots / "scenarios.png", full_page=False)

        # a refused value comes back as one line, next to its field
        page.goto(served.url + "/new?scenario=rongcheng")
        page.wait_for_selector("#values details")
        page.fill("#population", "5000000")
        page.fill("#days", "60")
        page.click("#start")
        expect(page.locator("#population-error")).to_contain_text("at most 200,000")
        page.screenshot(path=shots / "new-run-refused.png")
        page.fill("#population", "30000")
        page.click("#start")
        page.wait_for_url("**/runs/rongcheng-*")
        run_id = page.url.rsplit("/", 1)[1]
        page.wait_for_selector("#state [data-status=done]", timeout=120_000)
        page.wait_for_selector("#chart .scatterlayer .trace", timeout=30_000)
        assert page.locator("#figures .figure").count() >= 5
        page.screenshot(path=shots / "run.png", full_page=True)

        res = socialcredit.open_results(served.app.state.settings.data / run_id)
        who = int(res.ledger["citizen"].value_counts().index[0])
        page.fill("#citizen", str(who))
        page.click("#open-citizen")
        page.wait_for_selector("#story")
        assert page.text_content("#story").startswith(f"Citizen {who}")
        page.wait_for_selector("#timeline .scatterlayer .trace")
        page.screenshot(path=shots / "citizen.png", full_page=True)

        page.goto(served.url + "/compare")
        page.wait_for_selector("#compare-form")
        compare(page, "rongcheng", "5000", "30", "channels.cameras.misattribution=0.05")
        assert "wrongful_penalties" in page.text_content("#result")
        # 700,000 people in Rongcheng, 5,000 simulated
        assert "each simulated citizen stands for 140 people" in page.text_content("#scale")
        # the differences as a chart: one marker per charted outcome, with its interval
        page.wait_for_selector("#diff-chart .scatterlayer .trace")
        charted = int(page.get_attribute("#diff-chart", "data-drawn"))
        assert charted >= 5
        assert "wrongful_penalties (total)" in page.text_content("#diff-chart")
        page.screenshot(path=shots / "compare.png", full_page=True)
        # B as pasted TOML that does not parse: refused next to its field, nothing runs
        page.select_option("#other", label="my own scenario (TOML)")
        page.fill("#other-toml", "[scenario\nname = 1")
        page.click("#run-compare")
        page.wait_for_selector("#other_toml-error:not(:empty)")
        assert page.text_content("#other_toml-error").startswith("other_toml:")
        assert page.text_content("#result") == ""
        page.select_option("#other", "suining")
        compare(page, "sesame", "2000", "10", "")
        assert "B: suining" in page.text_content("#result thead")
        assert "stands for 500 people" in page.text_content("#scale")

        # an ensemble from the form: its page draws each series as a median within bands
        page.goto(served.url + "/new?scenario=rongcheng")
        page.wait_for_selector("#values details")
        page.fill("#population", "2000")
        page.fill("#days", "30")
        page.fill("#replicates", "3")
        page.click("#start")
        page.wait_for_url("**/runs/rongcheng-ensemble-*")
        page.wait_for_selector("#state [data-status=done]", timeout=120_000)
        page.select_option("#column", ["penalties", "mean_score"])
        page.wait_for_selector("#chart[data-drawn='mean_score,penalties']")
        assert page.locator("#chart .scatterlayer .trace").count() == 10  # 5 a series
        assert page.locator("#chart .scatterlayer .fills path").count() >= 4  # 50%, 90%
        assert page.locator("#figures .figure").count() >= 5
        assert page.locator("#downloads a").count() == 3
        page.screenshot(path=shots / "ensemble.png", full_page=True)

        # a title that is HTML shows as text and runs nothing
        title = '<script>window.hacked = 1</script><img src=x onerror="window.hacked = 2">'
        text = scenario_text("rongcheng")[1].replace(
            'title = "Rongcheng: 1000 points, grades AAA to D, a blacklist"',
            f"title = {json.dumps(title)}")
        hostile = served.client.post("/api/runs", json={"toml": text, "population": 1000,
                                                         "days": 5}).json()["id"]
        served.wait(hostile)
        page.goto(served.url + "/runs")
        page.wait_for_selector(f"tr[data-id='{hostile}']")
        assert title in page.text_content(f"tr[data-id='{hostile}']")
        page.goto(served.url + f"/runs/{hostile}")
        page.wait_for_selector("h1")
        assert page.text_content("h1") == title
        assert page.evaluate("window.hacked") is None
        page.goto(served.url + "/runs")
        page.wait_for_selector(f"tr[data-id='{run_id}'] [data-status=done]")
        assert "ensemble" in page.text_content("tr[data-id^='rongcheng-ensemble-'] .kind")
        page.screenshot(path=shots / "runs.png", full_page=True)
    finally:
        page.close()
        served.stop()
    assert outside == [], f"pages asked for things outside the server: {outside}"
    assert problems == [], problems
