// The coding page: highlights in each code's colour, select text and apply a code (click or number key),
// click a highlight to see its codings and remove one. Offsets sent to the server count Unicode code points,
// as Python does; the browser counts UTF-16 units, so they are converted both ways.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("coding-data").textContent);
  const csrf = document.getElementById("coding-csrf").value;
  const codable = data.codes.filter((c) => c.codable);
  const units = Array.from(document.querySelectorAll(".codable"));
  const status = document.getElementById("coding-status");
  const detail = document.getElementById("coding-detail");
  const memo = document.getElementById("coding-memo");
  const chars = data.texts.map((t) => Array.from(t.text));
  let last = null;

  function say(message) {
    status.textContent = message;
  }

  function render(index) {
    const codings = data.texts[index].codings;
    const text = chars[index];
    const bounds = new Set([0, text.length]);
    for (const c of codings) {
      bounds.add(c.start);
      bounds.add(c.end);
    }
    const cuts = Array.from(bounds).sort((a, b) => a - b);
    const starts = new Map();
    for (const c of codings) {
      if (!starts.has(c.start)) starts.set(c.start, []);
      starts.get(c.start).push(c);
    }
    const open = [];
    const fragment = document.createDocumentFragment();
    for (let k = 0; k + 1 < cuts.length; k++) {
      const a = cuts[k];
      const b = cuts[k + 1];
      for (const c of starts.get(a) || []) open.push(c);
      for (let i = open.length - 1; i >= 0; i--) if (open[i].end <= a) open.splice(i, 1);
      const piece = text.slice(a, b).join("");
      if (!open.length) {
        fragment.append(document.createTextNode(piece));
        continue;
      }
      const mark = document.createElement("mark");
      mark.textContent = piece;
      mark.tabIndex = 0;
      const colours = open.map((c) => c.colour || "#999999");
      mark.style.background =
        colours.length === 1
          ? colours[0] + "66"
          : "linear-gradient(" + colours.map((c) => c + "66").join(", ") + ")";
      mark.dataset.codings = open.map((c) => c.id).join(",");
      mark.title = open.map((c) => c.code + " (" + c.coder + ")").join("; ");
      for (const c of starts.get(a) || []) mark.id = "c" + c.id;
      fragment.append(mark);
    }
    units[index].replaceChildren(fragment);
  }

  function selection() {
    const sel = window.getSelection();
    if (!sel || !sel.rangeCount || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    const unit = units.find((u) => u.contains(range.startContainer) && u.contains(range.endContainer));
    if (!unit) return null;
    const before = document.createRange();
    before.selectNodeContents(unit);
    before.setEnd(range.startContainer, range.startOffset);
    const index = Number(unit.dataset.index);
    const text = data.texts[index].text;
    const from = before.toString().length;
    const to = from + range.toString().length;
    const start = Array.from(text.slice(0, from)).length;
    const end = Array.from(text.slice(0, to)).length;
    return end > start ? { index: index, start: start, end: end } : null;
  }

  document.addEventListener("selectionchange", () => {
    const found = selection();
    if (found) last = found;
  });

  async function apply(codeId) {
    const target = selection() || last;
    if (!target) {
      say("Select some text first, then choose a code.");
      return;
    }
    const body = {
      csrf_token: csrf,
      source: data.texts[target.index].reference,
      start: target.start,
      end: target.end,
      code_id: codeId,
      memo: memo.value,
    };
    const response = await fetch("/api/coding/codings", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      say(answer.error || "The coding was refused.");
      return;
    }
    data.texts[target.index].codings.push(answer);
    memo.value = "";
    last = null;
    const sel = window.getSelection();
    if (sel) sel.removeAllRanges();
    render(target.index);
    say("Coded “" + chars[target.index].slice(answer.start, answer.end).join("") + "” as " + answer.code + ".");
  }

  async function remove(id, index) {
    const response = await fetch("/api/coding/codings/" + id, {
      method: "DELETE",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
    });
    const answer = await response.json();
    if (!response.ok) {
      say(answer.error || "The coding was not removed.");
      return;
    }
    data.texts[index].codings = data.texts[index].codings.filter((c) => c.id !== id);
    render(index);
    detail.replaceChildren();
    say("Removed the coding.");
  }

  function show(mark) {
    const unit = mark.closest(".codable");
    const index = Number(unit.dataset.index);
    const ids = mark.dataset.codings.split(",").map(Number);
    const list = document.createElement("ul");
    list.className = "coding-detail";
    for (const c of data.texts[index].codings.filter((x) => ids.includes(x.id))) {
      const item = document.createElement("li");
      const text = chars[index].slice(c.start, c.end).join("");
      item.append(c.code + " — " + c.coder + ": “" + text + "”" + (c.memo ? " (" + c.memo + ")" : "") + " ");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "remove-coding";
      button.textContent = "Remove";
      button.addEventListener("click", () => remove(c.id, index));
      item.append(button);
      list.append(item);
    }
    detail.replaceChildren(list);
  }

  for (const button of document.querySelectorAll(".apply-code")) {
    button.addEventListener("mousedown", (event) => event.preventDefault()); // keep the selection
    button.addEventListener("click", () => apply(Number(button.dataset.codeId)));
  }
  for (const unit of units) {
    unit.addEventListener("click", (event) => {
      const mark = event.target.closest("mark");
      if (mark && window.getSelection().isCollapsed) show(mark);
    });
    unit.addEventListener("keydown", (event) => {
      const mark = event.target.closest && event.target.closest("mark");
      if (mark && event.key === "Enter") show(mark);
    });
  }
  document.addEventListener("keydown", (event) => {
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const number = Number(event.key);
    if (number >= 1 && number <= 9 && number <= codable.length) {
      event.preventDefault();
      apply(codable[number - 1].id);
    }
  });

  units.forEach((_, index) => render(index));
  if (location.hash) {
    const target = document.getElementById(location.hash.slice(1));
    if (target) target.scrollIntoView({ block: "center" });
  }
  document.body.dataset.codingReady = "1";
})();
