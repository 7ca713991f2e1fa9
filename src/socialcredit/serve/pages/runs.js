// Runs: every run and ensemble in the data folder (the server's and the CLI's), live
// progress, cancel.
"use strict";
SC.nav("/runs");

const rows = new Map();

function row(r) {
  const cells = {
    status: SC.el("td", {}, SC.status(r.status)),
    progress: SC.el("td", {}, SC.progress(r)),
    action: SC.el("td", {}),
  };
  const tr = SC.el("tr", { "data-id": r.id },
    SC.el("td", {}, SC.el("a", { href: "/runs/" + encodeURIComponent(r.id), text: r.id })),
    SC.el("td", { text: r.title || r.scenario || "" }),
    SC.el("td", { class: "kind", text: r.kind === "ensemble" ? "ensemble" +
      (r.replicates ? " of " + r.replicates : "") : "run" }),
    cells.status, cells.progress,
    SC.el("td", { class: "small muted", text: r.source === "folder" ? "command line" : "this server" }),
    cells.action);
  rows.set(r.id, cells);
  update(r.id, r);
  // live progress: the server's runs from its queue, the command line's from their folders
  if (r.status === "queued" || r.status === "running") SC.watch(r.id, s => update(r.id, s));
  return tr;
}

function update(id, s) {
  const cells = rows.get(id);
  SC.clear(cells.status); cells.status.append(SC.status(s.status));
  SC.clear(cells.progress); cells.progress.append(SC.progress(s));
  SC.clear(cells.action);
  if ((s.status === "queued" || s.status === "running") && s.source !== "folder") {
    cells.action.append(SC.el("button", { class: "secondary", text: "Cancel", onclick: async ev => {
      ev.target.disabled = true;
      try { update(id, await SC.api("/runs/" + encodeURIComponent(id) + "/cancel", { method: "POST" })); }
      catch (e) { cells.action.append(SC.el("span", { class: "error", text: e.message })); }
    } }));
  }
  if (s.message) cells.action.append(SC.el("span", { class: "small muted", text: " " + s.message }));
}

(async function () {
  const main = document.getElementById("main");
  const list = await SC.api("/runs");
  SC.clear(main);
  main.append(SC.el("h1", { text: "Runs" }),
    SC.el("p", { class: "muted" }, "Every run in the data folder, newest first. ",
      SC.el("a", { href: "/new", text: "Start a new run" }), "."));
  const body = SC.el("tbody", {}, list.map(row));
  main.append(SC.el("table", { id: "runs" },
    SC.el("thead", {}, SC.el("tr", {}, ["run", "scenario", "kind", "status", "progress", "started by", ""]
      .map(h => SC.el("th", { text: h })))), body));
  if (!list.length) main.append(SC.el("p", { class: "muted", text: "No runs yet." }));
})().catch(e => document.getElementById("main").append(SC.el("p", { class: "error", text: e.message })));
