// A run: status with live progress, key figures at real scale, daily charts (zoom, hover),
// who is hit, regions, downloads, and a way to a citizen's story.
"use strict";
SC.nav("/runs");

const id = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = "/runs/" + encodeURIComponent(id);
const SHOWN = ["listed", "listed_cumulative", "wrongful_penalties", "penalties", "mean_score"];

async function chart(run, box) {
  const select = SC.el("select", { id: "column", multiple: true, size: 6 },
    run.columns.filter(c => c !== "day").map(c => SC.el("option", { value: c, text: c,
      selected: SHOWN.slice(0, 2).includes(c) ? true : null })));
  const scaled = SC.el("input", { type: "checkbox", id: "scaled", checked: true });
  const plot = SC.el("div", { id: "chart", class: "chart" });
  box.append(SC.el("div", { class: "row" },
    SC.el("label", {}, "Daily series (ctrl-click for several)", select),
    SC.el("label", {}, "At real scale", scaled)), plot);
  async function draw() {
    const cols = [...select.selectedOptions].map(o => o.value);
    if (!cols.length) return;
    const d = await SC.api(base + "/daily?columns=" + encodeURIComponent(cols.join(",")));
    const k = scaled.checked ? d.scale : 1;
    const traces = cols.map(c => ({
      x: d.dates, y: d.series[c].map(v => (v === null ? null :
        (c === "mean_score" || c.startsWith("score_") || c === "approval") ? v : v * k)),
      name: c, type: "scatter", mode: "lines",
    }));
    Plotly.react(plot, traces, { margin: { t: 20, r: 20, b: 40, l: 70 }, hovermode: "x unified",
      legend: { orientation: "h" }, xaxis: { title: { text: "date" } } },
      { displaylogo: false, responsive: true });
    plot.dataset.drawn = cols.join(",");
  }
  select.addEventListener("change", () => draw().catch(e => box.append(SC.el("p", { class: "error", text: e.message }))));
  scaled.addEventListener("change", () => draw());
  await draw();
}

async function finished(run, main) {
  main.append(SC.el("h2", { text: "Key figures" }),
    SC.el("p", { class: "small muted", text: "Counts at real scale: each simulated citizen stands for " +
      SC.num(run.info.scale, 3) + " people." }),
    SC.el("div", { class: "figures", id: "figures" }, run.key.map(f =>
      SC.el("div", { class: "figure", "data-name": f.name },
        SC.el("div", { class: "value", text: SC.num(f.value) }),
        SC.el("div", { class: "label", text: f.label + (f.of ? " (" + f.of + ")" : "") })))));
  const box = SC.el("div");
  main.append(SC.el("h2", { text: "Day by day" }), box);
  await chart(run, box);

  const citizen = SC.el("input", { type: "number", id: "citizen", min: 0, max: run.info.population - 1, value: 0 });
  main.append(SC.el("h2", { text: "A citizen's story" }),
    SC.el("form", { id: "citizen-form", onsubmit: ev => { ev.preventDefault();
      location.href = base + "/citizens/" + encodeURIComponent(citizen.value); } },
      SC.el("div", { class: "row" }, SC.el("label", {}, "Citizen (0 to " +
        SC.num(run.info.population - 1) + ")", citizen),
        SC.el("button", { type: "submit", id: "open-citizen", text: "Open" }))));

  main.append(SC.el("h2", { text: "Downloads" }), SC.el("p", {}, run.files.map(n =>
    [SC.el("a", { href: "/api" + base + "/files/" + n, text: n, download: n === "report.html" ? null : true }), " · "])));

  const g = await SC.api(base + "/groups");
  const share = v => SC.num(100 * v, 2) + "%";
  main.append(SC.el("h2", { text: "Who is hit (at the end)" }),
    SC.table([["region_type", "region type"], ["age_group", "age group"], ["citizens", "citizens", "num"],
      ["listed", "listed", "num"], ["listed_share", "listed share", "num", share],
      ["wronged", "wronged", "num"], ["wronged_share", "wronged share", "num", share],
      ["mean_score", "mean score", "num"]], g.groups));
  if (g.regions.length) {
    main.append(SC.el("h2", { text: "Regions (at the end)" }),
      SC.table([["region", "region"], ["region_type", "type"], ["citizens", "citizens", "num"],
        ["listed", "listed", "num"], ["listed_share", "listed share", "num", share],
        ["wronged_share", "wronged share", "num", share], ["mean_score", "mean score", "num"]],
        g.regions));
  }
}

(async function () {
  const main = document.getElementById("main");
  let run = await SC.api(base);
  SC.clear(main);
  const state = SC.el("p", { id: "state" });
  const title = SC.el("h1", {});
  const what = SC.el("p", { class: "small muted" });
  const heading = r => {
    title.textContent = r.title || id;
    what.textContent = id + (r.info ? " · " + r.info.scenario + " · " + SC.num(r.info.population) +
      " citizens · " + r.info.days + " days · seed " + r.info.seed : "");
  };
  heading(run);
  main.append(title, what, state);
  const show = s => {
    SC.clear(state);
    state.append(SC.status(s.status), " ", SC.progress(s), s.message ? " " + s.message : "");
  };
  show(run);
  if (run.status === "queued" || run.status === "running") {
    await new Promise(resolve => SC.watch(id, s => {
      show(s);
      if (s.status !== "queued" && s.status !== "running") resolve();
    }));
    run = await SC.api(base);
    show(run);
    heading(run);
  }
  if (run.status === "done") await finished(run, main);
})().catch(e => document.getElementById("main").append(SC.el("p", { class: "error", text: e.message })));
