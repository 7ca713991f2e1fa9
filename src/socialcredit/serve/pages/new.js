// New run: a built-in scenario or pasted/uploaded TOML, checked by the server with the same
// one-line errors as the command line, shown next to the field they name.
"use strict";
SC.nav("/new");

const FIELDS = ["scenario", "toml", "population", "days", "until", "seed", "replicates", "sets"];
let values = [];

function field(name, label, input, hint) {
  return SC.el("label", {}, label, input,
    hint ? SC.el("span", { class: "small muted", text: hint }) : null,
    SC.el("span", { class: "error", id: name + "-error", role: "alert" }));
}

function showError(message) {
  for (const f of FIELDS) SC.clear(document.getElementById(f + "-error"));
  if (!message) return;
  const head = message.split(":")[0].trim().replace(/^-+/, "");
  let where = FIELDS.includes(head) ? head : (head === "set" ? "sets" : "form");
  if (where === "scenario" && document.getElementById("source").value === "toml") where = "toml";
  document.getElementById(where + "-error").textContent = message;
}

async function loadValues(name) {
  const box = document.getElementById("values");
  SC.clear(box);
  values = [];
  if (!name) return;
  const s = await SC.api("/scenarios/" + encodeURIComponent(name));
  document.getElementById("population").placeholder = String(s.simulate || s.population);
  document.getElementById("days").placeholder = String(s.days);
  values = s.values;
  const rows = values.map((v, i) => {
    const input = v.kind === "switch"
      ? SC.el("input", { type: "checkbox", "data-i": i, checked: v.value ? true : null })
      : SC.el("input", { type: "number", step: "any", "data-i": i, value: v.value });
    return SC.el("tr", { "data-path": v.path }, SC.el("td", { class: "small", text: v.path }),
      SC.el("td", {}, input), SC.el("td", { class: "small unit", text: v.unit || "" }),
      SC.el("td", { class: "small muted", text: v.source }),
      SC.el("td", {}, v.assumed ? SC.el("span", { class: "assumed", text: "assumed" }) : ""));
  });
  box.append(SC.el("details", {}, SC.el("summary", { text: "Change the scenario's values (" +
    values.length + ")" }), SC.el("table", { class: "values" },
    SC.el("thead", {}, SC.el("tr", {}, ["value", "", "unit", "source ids", ""].map(h => SC.el("th", { text: h })))),
    SC.el("tbody", {}, rows))));
}

function changedSets() {
  const out = [];
  for (const input of document.querySelectorAll("#values input")) {
    const v = values[Number(input.dataset.i)];
    const now = v.kind === "switch" ? input.checked : Number(input.value);
    if (input.value === "" && v.kind !== "switch") continue;
    if (now !== v.value) out.push(v.path + "=" + String(now));
  }
  return out;
}

function whole(id) {
  const text = document.getElementById(id).value.trim();
  return text === "" ? undefined : Number(text);
}

(async function () {
  const main = document.getElementById("main");
  const list = await SC.api("/scenarios");
  SC.clear(main);
  const source = SC.el("select", { id: "source", name: "source" },
    list.map(s => SC.el("option", { value: s.name, text: s.name + " — " + s.title })),
    SC.el("option", { value: "toml", text: "my own scenario (TOML)" }));
  const toml = SC.el("textarea", { id: "toml", name: "toml", spellcheck: "false",
    placeholder: "[scenario]\nname = \"mine\"\n..." });
  const upload = SC.el("input", { type: "file", accept: ".toml,text/plain", id: "upload" });
  const check = SC.el("button", { type: "button", class: "secondary", id: "check", text: "Check" });
  const checked = SC.el("span", { class: "okay", id: "checked" });
  const tomlField = field("toml", "Scenario TOML (paste, or choose a file)", toml);
  tomlField.classList.add("wide");
  const tomlBox = SC.el("div", { id: "toml-box", hidden: true }, tomlField, upload, " ", check,
    " ", checked);
  const form = SC.el("form", { id: "new-run" },
    SC.el("div", { class: "row" }, field("scenario", "Scenario", source)),
    tomlBox,
    SC.el("div", { class: "row" },
      field("population", "Citizens simulated", SC.el("input", { type: "number", id: "population", min: 1 }),
            "people the run simulates"),
      field("days", "Days", SC.el("input", { type: "number", id: "days", min: 1 }), "days run"),
      field("until", "or end date", SC.el("input", { type: "date", id: "until" }), "last day"),
      field("seed", "Seed", SC.el("input", { type: "number", id: "seed", min: 0, value: 0 }), "random numbers"),
      field("replicates", "Replicates", SC.el("input", { type: "number", id: "replicates", min: 1, value: 1 }),
            "runs, seeds seed, seed + 1, …; above 1: an ensemble with bands")),
    SC.el("div", { id: "values" }),
    SC.el("span", { class: "error", id: "sets-error", role: "alert" }),
    SC.el("p", {}, SC.el("button", { type: "submit", id: "start", text: "Start the run" })),
    SC.el("p", { class: "error", id: "form-error", role: "alert" }));
  main.append(SC.el("h1", { text: "New run" }), SC.el("div", { class: "card" }, form));

  const wanted = SC.param("scenario");
  if (wanted && list.some(s => s.name === wanted)) source.value = wanted;
  source.addEventListener("change", () => {
    tomlBox.hidden = source.value !== "toml";
    showError("");
    loadValues(source.value === "toml" ? null : source.value).catch(e => showError(e.message));
  });
  tomlBox.hidden = source.value !== "toml";
  await loadValues(source.value === "toml" ? null : source.value);

  upload.addEventListener("change", async () => {
    const file = upload.files[0];
    if (file) toml.value = await file.text();
  });
  check.addEventListener("click", async () => {
    checked.textContent = "";
    showError("");
    try {
      const r = await SC.api("/check", { json: { toml: toml.value } });
      checked.textContent = "valid: " + r.name + " — " + r.title;
    } catch (e) { document.getElementById("toml-error").textContent = e.message; }
  });
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    showError("");
    const body = { seed: whole("seed") === undefined ? 0 : whole("seed") };
    if (source.value === "toml") body.toml = toml.value; else body.scenario = source.value;
    for (const k of ["population", "days", "replicates"]) if (whole(k) !== undefined) body[k] = whole(k);
    const until = document.getElementById("until").value;
    if (until) body.until = until;
    if (source.value !== "toml") body.sets = changedSets();
    const start = document.getElementById("start");
    start.disabled = true;
    try {
      const run = await SC.api("/runs", { json: body });
      location.href = "/runs/" + encodeURIComponent(run.id);
    } catch (e) { showError(e.message); start.disabled = false; }
  });
})().catch(e => document.getElementById("main").append(SC.el("p", { class: "error", text: e.message })));
