// Compare: two designs on common random numbers over N seeds, the difference with its
// 95% interval.
"use strict";
SC.nav("/compare");

function lines(text) { return text.split("\n").map(s => s.trim()).filter(Boolean); }

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

(async function () {
  const main = document.getElementById("main");
  const list = await SC.api("/scenarios");
  SC.clear(main);
  const scenario = SC.el("select", { id: "scenario" }, list.map(s => SC.el("option", { value: s.name, text: s.name })));
  const other = SC.el("select", { id: "other" }, SC.el("option", { value: "", text: "none: A with the changes" }),
    list.map(s => SC.el("option", { value: s.name, text: s.name })));
  const otherError = SC.el("span", { class: "error", id: "other-error", role: "alert" });
  const sets = SC.el("textarea", { id: "sets", style: "min-height:4rem",
    placeholder: "responses.deterrence.enabled=false" });
  const num = (id, v, min) => SC.el("input", { type: "number", id: id, min: min, value: v });
  const seeds = num("seeds", 3, 2), population = num("population", "", 1), days = num("days", "", 1);
  const error = SC.el("p", { class: "error", id: "compare-error", role: "alert" });
  const state = SC.el("p", { id: "state" });
  const result = SC.el("div", { id: "result" });
  const form = SC.el("form", { id: "compare-form" },
    SC.el("div", { class: "row" }, SC.el("label", {}, "Scenario (A)", scenario),
      SC.el("label", {}, "Seeds", seeds), SC.el("label", {}, "Citizens", population),
      SC.el("label", {}, "Days", days)),
    SC.el("div", { class: "row" },
      SC.el("label", { class: "wide", style: "flex:1" }, "B: A with these changes, one PATH=VALUE a line", sets),
      SC.el("label", {}, "B: another scenario (optional)", other, otherError)),
    SC.el("p", {}, SC.el("button", { type: "submit", id: "run-compare", text: "Compare" })), error);
  main.append(SC.el("h1", { text: "Compare two designs" }),
    SC.el("p", { class: "muted", text: "Both designs run with the same seeds (common random numbers): " +
      "the same acts happen wherever the change does not reach, so the difference is the change's effect." }),
    SC.el("div", { class: "card" }, form), state, result);
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    error.textContent = ""; otherError.textContent = ""; SC.clear(result); SC.clear(state);
    const body = { scenario: scenario.value, sets: lines(sets.value), seeds: Number(seeds.value) };
    if (other.value) {
      if (body.sets.length) {  // the API compares a second scenario or changes, not both
        otherError.textContent = "give another scenario or changes to A, not both";
        return;
      }
      body.other = other.value;
      delete body.sets;
    }
    if (population.value) body.population = Number(population.value);
    if (days.value) body.days = Number(days.value);
    try {
      const job = await SC.api("/compares", { json: body });
      const c = await wait(job.id, state);
      if (c.status !== "done") return;
      result.append(SC.el("h2", { text: c.table.what }),
        SC.el("p", { class: "small muted", id: "scale", text: scaleText(c.table) }),
        SC.el("p", { class: "small muted", text: "of: 'last day' is the state on the run's last day, " +
          "'total' the sum over all its days; A and B are means over the seeds." }),
        SC.table([["outcome", "outcome"], ["kind", "of"], ["a", "A: " + (c.table.a || ""), "num"],
          ["b", "B: " + (c.table.b || ""), "num"], ["difference", "B − A", "num"],
          ["ci95_low", "95% interval", "num", (v, r) => "[" + SC.num(v) + ", " + SC.num(r.ci95_high) + "]"]],
          c.table.rows.map(real)));
    } catch (e) { error.textContent = e.message; }
  });
})().catch(e => document.getElementById("main").append(SC.el("p", { class: "error", text: e.message })));
