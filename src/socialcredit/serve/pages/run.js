// A run: status with live progress, key figures at real scale, daily charts (zoom, hover),
// who is hit, regions, downloads, and a way to a citizen's story. An ensemble: its key
// figures over the replicates, each daily series as a median with 50% and 90% bands, its
// replicates and downloads.
"use strict";
SC.nav("/runs");

const id = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = "/runs/" + encodeURIComponent(id);
const SHOWN = ["listed", "listed_cumulative", "wrongful_penalties", "penalties", "mean_score"];
const COLOURS = ["31,119,180", "255,127,14", "44,160,44", "214,39,40", "148,103,189", "140,86,75"];
// Levels (a score, a share) are the same at any scale; counts are multiplied by it.
const level = c => c === "mean_score" || c.startsWith("score_") || c === "approval";

function lines(d, cols, k) {
  return cols.map(c => ({ x: d.dates, y: d.series[c].map(v => (v === null ? null : level(c) ? v : v * k)),
    name: c, type: "scatter", mode: "lines" }));
}

// Per column: the 90% band (p5 to p95), the 50% band (p25 to p75) as filled areas, the median.
function bands(d, cols, k) {
  return cols.flatMap((c, i) => {
    const rgb = COLOURS[i % COLOURS.length];
    const y = q => d.bands[c][q].map(v => (v === null ? null : level(c) ? v : v * k));
    const edge = (q, fill, name, alpha) => ({ x: d.dates, y: y(q), type: "scatter", mode: "lines",
      line: { width: 0 }, legendgroup: c, name: name || q, showlegend: Boolean(name),
      fill: fill ? "tonexty" : "none", fillcolor: "rgba(" + rgb + "," + alpha + ")",
      hoverinfo: "skip" });
    return [edge("p5"), edge("p95", true, c + " 90%", 0.15), edge("p25"),
      edge("p75", true, c + " 50%", 0.3),
      { x: d.dates, y: y("p50"), name: c + " median", legendgroup: c, type: "scatter",
        mode: "lines", line: { color: "rgb(" + rgb + ")" } }];
  });
}

async function chart(run, box) {
  const select = SC.el("select", { id: "column", multiple: true, size: 6 },
    run.columns.filter(c => c !== "day").map(c => SC.el("option", { value: c, text: c,
      selected: SHOWN.slice(0, 2).includes(c) ? true : null })));
  const scaled = SC.el("input", { type: "checkbox", id: "scaled", checked: true });
  const plot = SC.el("div", { id: "chart", class: "chart" });
  box.append(SC.el("div", { class: "row" },
    SC.el("label", {}, "Daily series (ctrl-click for several)", select),
    SC.el("label", {}, "At real scale", scaled)), plot);
  const ensemble = run.kind === "ensemble";
  async function draw() {
    const cols = [...select.selectedOptions].map(o => o.value);
    if (!cols.length) return;
    const d = await SC.api(base + (ensemble ? "/bands" : "/daily") + "?columns=" +
      encodeURIComponent(cols.join(",")));
    const k = scaled.checked ? d.scale : 1;
    const traces = ensemble ? bands(d, cols, k) : lines(d, cols, k);
    Plotly.react(plot, traces, { margin: { t: 20, r: 20, b: 40, l: 70 }, hovermode: "x unified",
      legend: { orientation: "h" }, xaxis: { title: { text: "date" } } },
      { displaylogo: false, responsive: true });
    plot.dataset.drawn = cols.join(",");
  }
  select.addEventListener("change", () => draw().catch(e => box.append(SC.el("p", { class: "error", text: e.message }))));
  scaled.addEventListener("change", () => draw());
  await draw();
}

function scaleNote(run) {
  return SC.el("p", { class: "small muted", text: "Counts at real scale: each simulated citizen stands for " +
    SC.num(run.info.scale, 3) + " people." });
}

async function finishedEnsemble(run, main) {
  main.append(SC.el("h2", { text: "Key figures" }), scaleNote(run),
    SC.el("p", { class: "small muted", text: "The median over the replicates, and the range " +
      "that holds 90% of them (5th to 95th percentile)." }), SC.figures(run.key));
  const box = SC.el("div");
  main.append(SC.el("h2", { text: "Day by day: median, 50% and 90% of the replicates" }), box);
  await chart(run, box);
  main.append(SC.el("h2", { text: "Downloads" }), SC.downloads(base, run.files),
    SC.el("h2", { text: "Replicates" }),
    SC.table([["run", "run", "num"], ["seed", "seed", "num"], ["status", "status", null, v => SC.status(v)],
      ["wall_seconds", "seconds", "num", v => SC.num(v, 2)], ["error", "why it failed"]], run.replicates));
}

async function finished(run, main) {
  if (run.kind === "ensemble") return finishedEnsemble(run, main);
  main.append(SC.el("h2", { text: "Key figures" }), scaleNote(run), SC.figures(run.key));
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

  main.append(SC.el("h2", { text: "Downloads" }), SC.downloads(base, run.files));

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
    const seeds = r.kind === "ensemble" && r.info ? " · ensemble of " + r.info.seeds +
      " replicates, seeds " + r.info.first_seed + " to " + (r.info.first_seed + r.info.seeds - 1)
      : r.info ? " · seed " + r.info.seed : "";
    what.textContent = id + (r.info ? " · " + r.info.scenario + " · " + SC.num(r.info.population) +
      " citizens · " + r.info.days + " days" + seeds : "");
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
