// A citizen: the `socialcredit explain` story as a score timeline, wrongful events marked.
"use strict";
SC.nav("/runs");

const parts = location.pathname.split("/");
const id = decodeURIComponent(parts[2] || "");
const n = decodeURIComponent(parts[4] || "");

(async function () {
  const main = document.getElementById("main");
  const s = await SC.api("/runs/" + encodeURIComponent(id) + "/citizens/" + encodeURIComponent(n));
  SC.clear(main);
  main.append(SC.el("h1", { text: "Citizen " + s.citizen }),
    SC.el("p", {}, SC.el("a", { href: "/runs/" + encodeURIComponent(id), text: "back to run " + id })));
  const changes = s.changes;
  if (changes.length) {
    const x = changes.map(c => c.date.slice(0, 10));
    const y = changes.map(c => c.score_after);
    const wrong = changes.filter(c => c.wrongful);
    const plot = SC.el("div", { id: "timeline", class: "chart" });
    main.append(SC.el("h2", { text: "Score over time" }), plot);
    Plotly.newPlot(plot, [
      { x: x, y: y, name: "score", type: "scatter", mode: "lines+markers", line: { shape: "hv" },
        text: changes.map(c => c.act + " (" + c.points + ")"), hoverinfo: "x+y+text" },
      { x: wrong.map(c => c.date.slice(0, 10)), y: wrong.map(c => c.score_after),
        name: "wrongful: someone else's act", type: "scatter", mode: "markers",
        marker: { color: "#b3261e", size: 11, symbol: "x" } },
    ], { margin: { t: 20, r: 20, b: 40, l: 60 }, legend: { orientation: "h" } },
    { displaylogo: false, responsive: true });
    main.append(SC.el("h2", { text: "Score changes" }),
      SC.table([["date", "date", null, v => v.slice(0, 10)], ["act", "act"], ["channel", "channel"],
        ["rule", "rule"], ["points", "points", "num"], ["score_after", "score", "num"],
        ["grade_after", "grade"], ["wrongful", "", null, v => v ?
          SC.el("span", { class: "wrongful", text: "wrongful" }) : ""]], changes));
  }
  if (s.listings.length) {
    main.append(SC.el("h2", { text: "Listings" }),
      SC.table([["list", "list"], ["listed_on", "listed on", null, v => (v || "").slice(0, 10)],
        ["left_on", "left on", null, v => (v || "").slice(0, 10)], ["exit", "exit"],
        ["days_listed", "days", "num"], ["wrongful", "", null, v => v ?
          SC.el("span", { class: "wrongful", text: "wrongful listing" }) : ""]], s.listings));
  }
  main.append(SC.el("h2", { text: "The story" }), SC.el("pre", { class: "story", id: "story", text: s.text }));
})().catch(e => document.getElementById("main").append(SC.el("p", { class: "error", text: e.message })));
