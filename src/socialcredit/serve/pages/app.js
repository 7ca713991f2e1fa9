// socialcredit serve: what every page shares. Pages read and write only through /api, and
// put text into the page only as text (textContent), never as HTML: a scenario's title is
// whatever its author typed.
"use strict";

const SC = {};

SC.el = function (tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = String(v);
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
};

SC.api = async function (path, options) {
  const opts = Object.assign({ headers: {} }, options || {});
  if (opts.json !== undefined) {
    opts.method = opts.method || "POST";
    opts.headers["content-type"] = "application/json";
    opts.body = JSON.stringify(opts.json);
    delete opts.json;
  }
  const res = await fetch("/api" + path, opts);
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const err = new Error((body && body.error) || ("the server answered " + res.status));
    err.status = res.status;
    throw err;
  }
  return body;
};

SC.num = function (x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return "n/a";
  if (typeof x !== "number") return String(x);
  const d = digits === undefined ? (Number.isInteger(x) ? 0 : 2) : digits;
  return x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: 0 });
};

SC.status = function (s) {
  return SC.el("span", { class: "status " + s, text: s, "data-status": s });
};

SC.nav = function (here) {
  const links = [["/", "Scenarios"], ["/new", "New run"], ["/runs", "Runs"],
                 ["/compare", "Compare"]];
  const header = SC.el("header", {},
    SC.el("strong", { text: "socialcredit" }),
    SC.el("nav", {}, links.map(([href, name]) =>
      SC.el("a", { href: href, class: href === here ? "here" : null, text: name }))),
    SC.el("span", { class: "note", text: "synthetic populations only" }));
  document.body.prepend(header);
};

SC.clear = function (node) { while (node.firstChild) node.removeChild(node.firstChild); };

SC.table = function (columns, rows) {
  // columns: [[key, heading, "num"|undefined, format fn|undefined]]
  return SC.el("table", {},
    SC.el("thead", {}, SC.el("tr", {}, columns.map(c =>
      SC.el("th", { class: c[2] || null, text: c[1] })))),
    SC.el("tbody", {}, rows.map(r => SC.el("tr", {}, columns.map(c => {
      const v = c[3] ? c[3](r[c[0]], r) : r[c[0]];
      return SC.el("td", { class: c[2] || null }, v instanceof Node ? v : (
        c[2] === "num" ? SC.num(v) : (v === null || v === undefined ? "" : String(v))));
    })))));
};

// A run's progress as server-sent events: calls onStatus with each status until it ends.
SC.watch = function (id, onStatus) {
  const source = new EventSource("/api/runs/" + encodeURIComponent(id) + "/events");
  source.addEventListener("status", ev => {
    const s = JSON.parse(ev.data);
    onStatus(s);
    if (s.status !== "queued" && s.status !== "running") source.close();
  });
  source.onerror = () => source.close();
  return source;
};

SC.progress = function (s) {
  const wrap = SC.el("span", { class: "progress" });
  if (s.status === "running" || s.status === "queued") {
    wrap.append(SC.el("progress", { max: s.days || 1, value: s.day || 0 }), " ",
      SC.el("span", { class: "small muted", text: (s.phase ? s.phase + ", " : "") +
        (s.unit || "day") + " " + SC.num(s.day || 0) + " of " + SC.num(s.days || 0) }));
  }
  return wrap;
};

// Key figures as cards: value, and where given the 5th to 95th percentile over replicates.
SC.figures = function (key) {
  return SC.el("div", { class: "figures", id: "figures" }, key.map(f =>
    SC.el("div", { class: "figure", "data-name": f.name },
      SC.el("div", { class: "value", text: SC.num(f.value) }),
      f.low === null || f.low === undefined ? null : SC.el("div", { class: "small muted",
        text: "90%: " + SC.num(f.low) + " to " + SC.num(f.high) }),
      SC.el("div", { class: "label", text: f.label + (f.of ? " (" + f.of + ")" : "") }))));
};

// Downloads of a finished run or ensemble.
SC.downloads = function (base, files) {
  return SC.el("p", { id: "downloads" }, files.map((n, i) => [i ? " · " : null, SC.el("a", {
    href: "/api" + base + "/files/" + n, text: n, download: n === "report.html" ? null : true })]));
};

SC.param = function (name) { return new URLSearchParams(location.search).get(name); };
