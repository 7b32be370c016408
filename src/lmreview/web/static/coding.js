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

  // Post one coding; null when it was refused (the reason is said).
  async function post(index, start, end, codeId, note) {
    const body = {
      csrf_token: csrf,
      source: data.texts[index].reference,
      start: start,
      end: end,
      code_id: codeId,
      memo: note,
    };
    const response = await fetch("/api/coding/codings", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      say(answer.error || "The coding was refused.");
      return null;
    }
    data.texts[index].codings.push(answer);
    render(index);
    return answer;
  }

  async function apply(codeId) {
    const target = selection() || last;
    if (!target) {
      say("Select some text first, then choose a code.");
      return;
    }
    const answer = await post(target.index, target.start, target.end, codeId, memo.value);
    if (!answer) return;
    memo.value = "";
    last = null;
    const sel = window.getSelection();
    if (sel) sel.removeAllRanges();
    say("Coded “" + chars[target.index].slice(answer.start, answer.end).join("") + "” as " + answer.code + ".");
  }

  // Suggestions: a keyword rule or the codes given earlier to the same passage propose codings; each waits for
  // the coder to accept it (then it is coded, memo "suggested") or reject it (then it is dropped). Never silent.
  const suggestForm = document.getElementById("suggest-form");
  const suggestions = document.getElementById("suggestions");

  function showSpan(index, start, end) {
    // select text[start:end] (code points) in the unit, so the coder sees the passage a suggestion is about
    const text = data.texts[index].text;
    const from = Array.from(text).slice(0, start).join("").length;
    const to = from + Array.from(text).slice(start, end).join("").length;
    const walker = document.createTreeWalker(units[index], NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let seen = 0;
    let node;
    while ((node = walker.nextNode())) {
      const n = node.textContent.length;
      if (seen <= from && from <= seen + n) range.setStart(node, from - seen);
      if (seen <= to && to <= seen + n) {
        range.setEnd(node, to - seen);
        break;
      }
      seen += n;
    }
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    const box = range.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) units[index].scrollIntoView({ block: "center" });
  }

  function settle(item, message) {
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    say(message);
    if (next) next.focus();
    else say(message + " No suggestion is left.");
  }

  async function accept(item, s) {
    const answer = await post(s.index, s.start, s.end, s.code_id, "suggested");
    if (answer) settle(item, "Accepted: “" + s.text + "” coded as " + s.code + ".");
  }

  async function reject(item, s) {
    // remembered on the server: the same span is not proposed to this coder for this code again
    const response = await fetch("/api/coding/suggestions/reject", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        csrf_token: csrf,
        review: data.review,
        codebook: data.codebook,
        source: s.source,
        start: s.start,
        end: s.end,
        code_id: s.code_id,
      }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      say("Not rejected: " + (body.error || response.statusText));
      return;
    }
    settle(item, "Rejected: “" + s.text + "” is not coded as " + s.code + "; it will not be proposed again.");
  }

  function listSuggestions(rows) {
    const byReference = new Map(data.texts.map((t, i) => [t.reference, i]));
    suggestions.replaceChildren();
    for (const row of rows) {
      const index = byReference.get(row.source);
      if (index === undefined || row.code_id === null) continue;
      const s = Object.assign({ index: index }, row);
      const item = document.createElement("li");
      item.tabIndex = 0;
      item.className = "suggestion";
      item.append(s.code + ": “" + s.text + "” ");
      const yes = document.createElement("button");
      yes.type = "button";
      yes.textContent = "Accept";
      yes.addEventListener("click", () => accept(item, s));
      const no = document.createElement("button");
      no.type = "button";
      no.textContent = "Reject";
      no.addEventListener("click", () => reject(item, s));
      item.append(yes, " ", no);
      item.addEventListener("focus", () => showSpan(s.index, s.start, s.end));
      item.addEventListener("keydown", (event) => {
        if (event.target !== item) return;
        const key = event.key.toLowerCase();
        if (key === "a" || key === "enter") {
          event.preventDefault();
          event.stopPropagation();
          accept(item, s);
        } else if (key === "r" || key === "delete") {
          event.preventDefault();
          event.stopPropagation();
          reject(item, s);
        }
      });
      suggestions.append(item);
    }
    const n = suggestions.children.length;
    say(n ? n + (n === 1 ? " suggestion" : " suggestions") + ": accept or reject each." : "Nothing to suggest.");
    if (n) suggestions.firstElementChild.focus();
  }

  async function askSuggestions(extra) {
    const body = Object.assign(
      {
        csrf_token: csrf,
        review: data.review,
        codebook: data.codebook,
        sources: data.texts.map((t) => t.reference),
      },
      extra,
    );
    const response = await fetch("/api/coding/suggestions", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      say(answer.error || "No suggestion could be made.");
      return;
    }
    listSuggestions(answer.suggestions);
  }

  suggestForm.addEventListener("submit", (event) => {
    event.preventDefault();
    askSuggestions({
      code_id: Number(document.getElementById("suggest-code").value),
      words: document.getElementById("suggest-words").value,
      regex: document.getElementById("suggest-regex").checked,
    });
  });
  const earlier = document.getElementById("suggest-earlier");
  if (earlier) earlier.addEventListener("click", () => askSuggestions({ earlier: true }));

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
