// Compare: two designs on common random numbers over N seeds, each difference with its 95%
// interval, as a chart and a table. A is a built-in or pasted TOML; B is A, another built-in
// or pasted TOML, changed by PATH=VALUE lines.
"use strict";
SC.nav("/compare");

const OWN = "\u0000toml";  // the select value for "my own scenario (TOML)"
const ERRORS = ["toml", "other_toml", "sets", "seeds", "population", "days", "compare"];

function lines(text) { return text.split("\n").map(s => s.trim()).filter(Boolean); }

// An error next to the field it names ("toml: line 3: ...", "set: ...", "population: ...").
function showError(message) {
  for (const f of ERRORS) document.getElementById(f + "-error").textContent = "";
  if (!message) return;
  const head = message.split(":")[0].trim().replace(/^-+/, "");
  const where = head === "set" ? "sets" : (ERRORS.includes(head) ? head : "compare");
  document.getElementById(where + "-error").textContent = message;
}

async function wait(id, state) {
  for (;;) {
    const c = await SC.api("/compares/" + encodeURIComponent(id));
    SC.clear(state);
    state.append(SC.status(c.status), " ", SC.progress(c), c.message ? " " + c.message : "");
    if (c.status !== "queued" && c.status !== "running") return c;
    await new Promise(r => setTimeout(r, 700));
  }
}

// A row as `socialcredit compare` prints it: counts times the run's scale (a row's scale is 1
// for scores and shares, null where the two designs stand for societies of different sizes).
function real(row) {
  const k = row.scale;
  if (k === null || k === undefined || k === 1) return row;
  const out = Object.assign({}, row);
  for (const key of ["a", "b", "difference", "ci95_low", "ci95_high"]) {
    out[key] = row[key] === null ? null : Math.round(row[key] * k);
  }
  return out;
}

function scaleText(table) {
  const rows = table.rows || [];
  if (table.scale === null || rows.some(r => r.scale === null)) {
    return "counts of simulated citizens: the two designs stand for societies of different sizes";
  }
  const k = table.scale === undefined ? Math.max(1, ...rows.map(r => r.scale || 1)) : table.scale;
  if (k === 1) return "counts of simulated citizens: each stands for one person";
  return "counts at real scale: each simulated citizen stands for " + SC.num(k) + " people";
}

const finite = x => x !== null && x !== undefined && Number.isFinite(x);

// The differences as one chart: each outcome's B − A as a share of A, with its 95% interval
// (outcomes of different units side by side). An outcome whose A is 0 has no share; it is
// named under the chart and stays in the table. Call once the box is in the page (plotly
// takes the width it finds).
function chart(box, rows) {
  const shown = rows.filter(r => finite(r.a) && r.a !== 0 && finite(r.difference));
  const left = rows.filter(r => !shown.includes(r)).map(r => r.outcome);
  if (shown.length) {
    const label = r => r.outcome + " (" + r.kind + ")";
    const x = [], lo = [], hi = [], colour = [], text = [];
    for (const r of shown) {
      const k = 100 / Math.abs(r.a);
      x.push(k * r.difference);
      const low = finite(r.ci95_low) ? k * r.ci95_low : k * r.difference;
      const high = finite(r.ci95_high) ? k * r.ci95_high : k * r.difference;
      lo.push(k * r.difference - low); hi.push(high - k * r.difference);
      colour.push(low > 0 || high < 0 ? "#b3261e" : "#5b6475");
      text.push("A " + SC.num(r.a) + ", B " + SC.num(r.b) + "<br>B − A " + SC.num(r.difference) +
        " [" + SC.num(r.ci95_low) + ", " + SC.num(r.ci95_high) + "]");
    }
    const plot = SC.el("div", { id: "diff-chart", class: "chart",
      style: "min-height:" + Math.max(220, 60 + 34 * shown.length) + "px" });
    box.append(plot);
    Plotly.newPlot(plot, [{
      type: "scatter", mode: "markers", orientation: "h", x: x, y: shown.map(label),
      marker: { size: 10, color: colour },
      error_x: { type: "data", symmetric: false, array: hi, arrayminus: lo, color: "#5b6475",
                 thickness: 1.5, width: 5 },
      text: text, hovertemplate: "%{y}<br>%{x:+.1f}% of A<br>%{text}<extra></extra>",
    }], {
      margin: { t: 20, r: 20, b: 50, l: 230 }, height: Math.max(220, 60 + 34 * shown.length),
      xaxis: { title: { text: "B − A, % of A (95% interval)" }, zeroline: true,
               zerolinecolor: "#1d2330", zerolinewidth: 1.5, ticksuffix: "%" },
      yaxis: { autorange: "reversed", automargin: true },
    }, { displaylogo: false, responsive: true });
    plot.dataset.drawn = String(shown.length);
  }
  box.append(SC.el("p", { class: "small muted", id: "chart-note", text:
    "Red: the interval leaves out 0 (the change moves this outcome over these seeds). " +
    (left.length ? "Not charted, A being 0 or undefined: " + left.join(", ") + " (see the table)." : "") }));
}

function design(id, label, list, first) {
  const select = SC.el("select", { id: id }, first,
    list.map(s => SC.el("option", { value: s.name, text: s.name })),
    SC.el("option", { value: OWN, text: "my own scenario (TOML)" }));
  const tomlId = id === "scenario" ? "toml" : "other_toml";
  const text = SC.el("textarea", { id: tomlId.replace("_", "-"), spellcheck: "false",
    placeholder: "[scenario]\nname = \"mine\"\n..." });
  const upload = SC.el("input", { type: "file", accept: ".toml,text/plain", id: tomlId.replace("_", "-") + "-upload" });
  upload.addEventListener("change", async () => {
    const file = upload.files[0];
    if (file) text.value = await file.text();
  });
  const box = SC.el("div", { hidden: true }, SC.el("label", { class: "wide" }, "Scenario TOML (paste, or choose a file)", text), upload);
  select.addEventListener("change", () => { box.hidden = select.value !== OWN; });
  const wrap = SC.el("div", { class: "card" }, SC.el("label", {}, label, select),
    box, SC.el("span", { class: "error", id: tomlId + "-error", role: "alert" }));
  return { wrap, select, text };
}

(async function () {
  const main = document.getElementById("main");
  const list = await SC.api("/scenarios");
  SC.clear(main);
  const a = design("scenario", "A", list, null);
  const b = design("other", "B (changed by the lines below)", list,
    SC.el("option", { value: "", text: "A itself" }));
  const sets = SC.el("textarea", { id: "sets", style: "min-height:4rem",
    placeholder: "responses.deterrence.enabled=false" });
  const num = (id, v, min) => SC.el("input", { type: "number", id: id, min: min, value: v });
  const seeds = num("seeds", 3, 2), population = num("population", "", 1), days = num("days", "", 1);
  const err = id => SC.el("span", { class: "error", id: id + "-error", role: "alert" });
  const state = SC.el("p", { id: "state" });
  const result = SC.el("div", { id: "result" });
  const form = SC.el("form", { id: "compare-form" },
    SC.el("div", { class: "row" }, a.wrap, b.wrap),
    SC.el("label", { class: "wide" }, "Changes to B, one PATH=VALUE a line", sets, err("sets")),
    SC.el("div", { class: "row" },
      SC.el("label", {}, "Seeds", seeds, err("seeds")),
      SC.el("label", {}, "Citizens", population, err("population")),
      SC.el("label", {}, "Days", days, err("days"))),
    SC.el("p", {}, SC.el("button", { type: "submit", id: "run-compare", text: "Compare" })),
    SC.el("p", { class: "error", id: "compare-error", role: "alert" }));
  main.append(SC.el("h1", { text: "Compare two designs" }),
    SC.el("p", { class: "muted", text: "Both designs run with the same seeds (common random numbers): " +
      "the same acts happen wherever the change does not reach, so the difference is the change's effect." }),
    form, state, result);
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    showError(""); SC.clear(result); SC.clear(state);
    const body = { sets: lines(sets.value), seeds: Number(seeds.value) };
    if (a.select.value === OWN) body.toml = a.text.value; else body.scenario = a.select.value;
    if (b.select.value === OWN) body.other_toml = b.text.value;
    else if (b.select.value) body.other = b.select.value;
    if (population.value) body.population = Number(population.value);
    if (days.value) body.days = Number(days.value);
    try {
      const job = await SC.api("/compares", { json: body });
      const c = await wait(job.id, state);
      if (c.status !== "done") return;
      const rows = c.table.rows.map(real);
      const box = SC.el("div", {});
      result.append(SC.el("h2", { text: c.table.what }),
        SC.el("p", { class: "small muted", id: "scale", text: scaleText(c.table) }), box,
        SC.el("p", { class: "small muted", text: "of: 'last day' is the state on the run's last day, " +
          "'total' the sum over all its days; A and B are means over the seeds." }),
        SC.table([["outcome", "outcome"], ["kind", "of"], ["a", "A: " + (c.table.a || ""), "num"],
          ["b", "B: " + (c.table.b || ""), "num"], ["difference", "B − A", "num"],
          ["ci95_low", "95% interval", "num", (v, r) => "[" + SC.num(v) + ", " + SC.num(r.ci95_high) + "]"]],
          rows));
      chart(box, rows);
    } catch (e) { showError(e.message); }
  });
})().catch(e => document.getElementById("main").append(SC.el("p", { class: "error", text: e.message })));
