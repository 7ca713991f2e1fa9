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

(async function () {
  const main = document.getElementById("main");
  const list = await SC.api("/scenarios");
  SC.clear(main);
  const scenario = SC.el("select", { id: "scenario" }, list.map(s => SC.el("option", { value: s.name, text: s.name })));
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
    SC.el("label", { class: "wide" }, "B: A with these changes, one PATH=VALUE a line", sets),
    SC.el("p", {}, SC.el("button", { type: "submit", id: "run-compare", text: "Compare" })), error);
  main.append(SC.el("h1", { text: "Compare two designs" }),
    SC.el("p", { class: "muted", text: "Both designs run with the same seeds (common random numbers): " +
      "the same acts happen wherever the change does not reach, so the difference is the change's effect." }),
    SC.el("div", { class: "card" }, form), state, result);
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    error.textContent = ""; SC.clear(result);
    const body = { scenario: scenario.value, sets: lines(sets.value), seeds: Number(seeds.value) };
    if (population.value) body.population = Number(population.value);
    if (days.value) body.days = Number(days.value);
    try {
      const job = await SC.api("/compares", { json: body });
      const c = await wait(job.id, state);
      if (c.status !== "done") return;
      result.append(SC.el("h2", { text: c.table.what }),
        SC.el("p", { class: "small muted", text: "A and B are means over the seeds; counts of simulated citizens." }),
        SC.table([["outcome", "outcome"], ["kind", "of"], ["a", "A", "num"], ["b", "B", "num"],
          ["difference", "B − A", "num"],
          ["ci95_low", "95% interval", "num", (v, r) => "[" + SC.num(v) + ", " + SC.num(r.ci95_high) + "]"]],
          c.table.rows));
    } catch (e) { error.textContent = e.message; }
  });
})().catch(e => document.getElementById("main").append(SC.el("p", { class: "error", text: e.message })));
