// Scenarios: each built-in with its summary, the sources it cites and what a run may change.
"use strict";
SC.nav("/");

async function details(name, box) {
  const s = await SC.api("/scenarios/" + encodeURIComponent(name));
  SC.clear(box);
  box.append(
    SC.el("h2", { text: "Sources" }),
    SC.table([["id", "id"], ["title", "what"], ["published", "published in"]], s.sources),
    SC.el("h2", { text: "What a run may change (" + s.values.length + " values)" }),
    SC.el("p", { class: "small muted", text: "Each as a --set path; values marked assumed " +
      "come from no source." }),
    SC.table([["path", "value"], ["value", "now", "num"], ["source", "source ids"],
              ["assumed", "", null, v => v ? SC.el("span", { class: "assumed", text: "assumed" }) : ""]],
             s.values));
}

(async function () {
  const main = document.getElementById("main");
  const list = await SC.api("/scenarios");
  SC.clear(main);
  main.append(SC.el("h1", { text: "Scenarios" }),
    SC.el("p", { class: "muted", text: "Each built-in scenario is one complete system and the " +
      "society it runs on, every number with its source or marked assumed." }));
  for (const s of list) {
    const box = SC.el("div");
    let opened = false;
    const more = SC.el("details", { ontoggle: () => {
      if (!opened) { opened = true; details(s.name, box).catch(e => box.append(
        SC.el("p", { class: "error", text: e.message }))); }
    } }, SC.el("summary", { text: "Sources and values" }), box);
    main.append(SC.el("div", { class: "card scenario", "data-name": s.name },
      SC.el("h2", { text: s.title }),
      SC.el("p", { text: s.summary }),
      SC.el("p", { class: "small muted", text: s.name + " · " + SC.num(s.population) +
        " people · from " + s.start + " · " + s.days + " days" }),
      SC.el("p", {}, SC.el("a", { href: "/new?scenario=" + encodeURIComponent(s.name),
                                   text: "New run of " + s.name })),
      more));
  }
})().catch(e => document.getElementById("main").append(SC.el("p", { class: "error", text: e.message })));
