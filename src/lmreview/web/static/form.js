// Live relevance for lmreview questionnaires: show and hide questions as the respondent answers.
// The page works without this script (the server applies relevance when the page is saved); with it, the same
// expressions are evaluated in the browser by xlsform-expr.js (window.LmExpr), which mirrors the server's evaluator.
(function () {
  "use strict";
  var form = document.querySelector("form.questionnaire");
  if (!form || !window.LmExpr) return;
  var parsed = {};
  var tables = document.getElementById("lm-instances");  // what pulldata() and instance() read, when used here
  var extra = { instances: tables ? JSON.parse(tables.textContent) : {} };

  function valueOf(container, name) {
    var inputs = container.querySelectorAll('[data-name="' + name + '"]');
    var picked = [];
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.type === "checkbox" || el.type === "radio") { if (el.checked && el.value) picked.push(el.value); }
      else if (el.value) picked.push(el.value);
    }
    return picked.join(" ");
  }

  function scopeFor(element) {
    var values = {};
    var names = {};
    var all = form.querySelectorAll("[data-name]");
    for (var i = 0; i < all.length; i++) names[all[i].getAttribute("data-name")] = true;
    Object.keys(names).forEach(function (name) {
      var inRepeat = form.querySelector('.instance [data-name="' + name + '"]');
      if (!inRepeat) { values[name] = valueOf(form, name); return; }
      var list = [];
      var instances = form.querySelectorAll(".instance");
      for (var j = 0; j < instances.length; j++) {
        if (instances[j].querySelector('[data-name="' + name + '"]')) list.push(valueOf(instances[j], name));
      }
      values[name] = list;
    });
    var saved = document.getElementById("lm-last-saved");  // ${last-saved#name}: the previous submission's answers
    if (saved) {
      var previous = JSON.parse(saved.textContent);
      Object.keys(previous).forEach(function (name) { values[name] = previous[name]; });
    }
    var outside = document.getElementById("lm-outside");  // a paged form: the answers on the other pages
    if (outside) {
      var others = JSON.parse(outside.textContent);
      Object.keys(others).forEach(function (name) { if (!(name in values)) values[name] = others[name]; });
    }
    var instance = element.closest(".instance");
    if (instance) {
      var own = instance.querySelectorAll("[data-name]");
      for (var k = 0; k < own.length; k++) {
        var n = own[k].getAttribute("data-name");
        values[n] = valueOf(instance, n);
      }
    }
    return values;
  }

  function filterChoices(today) {
    var sets = form.querySelectorAll("[data-choice-filter]");
    for (var i = 0; i < sets.length; i++) {
      var text = sets[i].getAttribute("data-choice-filter");
      try {
        var key = "names:" + text;
        if (!parsed[key]) parsed[key] = window.LmExpr.parse(text, { names: true });
        var scope = scopeFor(sets[i]);
        var options = sets[i].querySelectorAll("[data-columns]");
        for (var j = 0; j < options.length; j++) {
          var columns = JSON.parse(options[j].getAttribute("data-columns"));
          var found = window.LmExpr.evaluate(parsed[key], scope, null, today, columns, null, extra);
          var keep = window.LmExpr.truthy(found);
          options[j].hidden = !keep;
          if (!keep) {
            var input = options[j].querySelector("input");
            if (input && input.checked) input.checked = false; // an option that no longer applies is not kept
          }
        }
      } catch (e) {
        // leave the options as the server rendered them
      }
    }
  }

  function refresh() {
    var today = new Date().toISOString().slice(0, 10);
    filterChoices(today);
    var nodes = form.querySelectorAll("[data-relevant]");
    for (var i = 0; i < nodes.length; i++) {
      var text = nodes[i].getAttribute("data-relevant");
      if (!text) continue;
      try {
        if (!parsed[text]) parsed[text] = window.LmExpr.parse(text);
        var instance = nodes[i].closest(".instance");
        var match = instance ? /\[(\d+)\]$/.exec(instance.getAttribute("data-instance")) : null;
        var position = match ? Number(match[1]) : null;
        var result = window.LmExpr.evaluate(parsed[text], scopeFor(nodes[i]), null, today, null, position, extra);
        var shown = window.LmExpr.truthy(result);
        nodes[i].hidden = !shown;
      } catch (e) {
        nodes[i].hidden = false; // never hide a question because of a script problem: the server decides
      }
    }
  }

  // Drafts are saved section by section: when the focus leaves a section that changed, the answers are saved in the
  // background (action "autosave": the server keeps the draft and answers 204 No Content, without a page), so
  // closing the tab loses at most one section. An answer the server refuses to store (422) leaves the draft as it
  // was; "Save draft" shows which.
  var dirty = false;
  var status = document.createElement("p");
  status.className = "autosave muted";
  status.setAttribute("role", "status");
  form.querySelector(".actions").appendChild(status);

  function save() {
    if (!dirty || !window.fetch || !window.FormData) return Promise.resolve();
    dirty = false;
    var data = new FormData(form);
    data.set("action", "autosave");
    return fetch(form.getAttribute("action") || window.location.pathname, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 422) dirty = true;
        status.textContent = response.ok ? status.getAttribute("data-saved") || "Saved."
          : response.status === 422 ? status.getAttribute("data-not-saved") || "" : "";
      })
      .catch(function () { dirty = true; });
  }
  window.lmSaveDraft = save;  // a long list's search reads the saved draft: the answers above it are saved first

  status.setAttribute("data-saved", form.getAttribute("data-saved-text") || "Saved.");
  status.setAttribute("data-not-saved", form.getAttribute("data-not-saved-text") || "");
  form.addEventListener("input", function () { dirty = true; status.textContent = ""; });
  form.addEventListener("change", function () { dirty = true; });
  form.addEventListener("focusout", function (event) {
    var section = event.target.closest("fieldset.group, fieldset.repeat, .question");
    var next = event.relatedTarget;
    if (!section || (next && section.contains(next))) return;
    if (section.classList.contains("question") && section.closest("fieldset.group")) return; // wait for the section
    save();
  });
  form.addEventListener("submit", function () { dirty = false; });

  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  refresh();
})();

// A geopoint from the browser's location: "latitude longitude altitude accuracy", as ODK writes it. No map and no
// tile server: the respondent can always type the coordinates instead.
(function () {
  "use strict";
  if (!navigator.geolocation) return;
  var buttons = document.querySelectorAll("button.locate");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (event) {
      var target = document.getElementById(event.currentTarget.getAttribute("data-target"));
      navigator.geolocation.getCurrentPosition(function (position) {
        var c = position.coords;
        target.value = [c.latitude, c.longitude, c.altitude || 0, c.accuracy || 0].join(" ");
        target.dispatchEvent(new Event("input", { bubbles: true }));
        target.dispatchEvent(new Event("change", { bubbles: true }));
      }, function (error) {
        target.setCustomValidity("");
        target.title = error.message;
      }, { enableHighAccuracy: true, timeout: 20000 });
    });
  }
})();

// Long lists (more than 500 options, or the autocomplete appearance): the page holds the options picked and a search
// box; the options matching what is typed come from the server (GET /r/TOKEN/options/PATH?q=). Arrow keys move in
// the suggestions, Enter picks one, Escape closes them. Without this script the box's Search button posts the form
// and the page comes back with the matching options to tick.
(function () {
  "use strict";
  var form = document.querySelector("form.questionnaire");
  var boxes = document.querySelectorAll("fieldset.longlist[data-options]");
  if (!form || !boxes.length || !window.fetch) return;
  var langInput = form.querySelector('input[name="lang"]');

  function setUp(box) {
    var input = box.querySelector('input[type="search"]');
    var list = box.querySelector("ul.suggestions");
    var picked = box.querySelector(".picked");
    var button = box.querySelector(".search button");
    if (!input || !list || !picked) return;
    if (button) button.hidden = true;
    var kind = box.getAttribute("data-kind");
    var path = input.name.replace(/\.search$/, "");
    var name = box.getAttribute("data-question");
    var options = [];
    var active = -1;
    var timer = null;
    var asked = 0;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    function close() {
      list.hidden = true;
      list.textContent = "";
      options = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = list.querySelectorAll('[role="option"]');
      if (!options.length) return;
      active = (index + options.length) % options.length;
      for (var i = 0; i < items.length; i++) items[i].setAttribute("aria-selected", i === active ? "true" : "false");
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function choose(option) {
      var existing = picked.querySelectorAll("input");
      for (var i = 0; i < existing.length; i++) {
        if (existing[i].value === option.name) { existing[i].checked = true; close(); input.value = ""; return; }
        if (kind === "radio") existing[i].closest("label").remove();  // one answer: the new one replaces it
      }
      var label = document.createElement("label");
      label.className = "check";
      var box = document.createElement("input");
      box.type = kind;
      box.name = path;
      box.value = option.name;
      box.checked = true;
      box.setAttribute("data-name", name);
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + option.label));
      picked.appendChild(label);
      input.value = "";
      close();
      box.dispatchEvent(new Event("change", { bubbles: true }));  // relevance follows, and the draft is saved
      input.focus();
    }

    function show(data) {
      list.textContent = "";
      options = data.options;
      options.forEach(function (option, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = option.label;
        item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(option); });
        list.appendChild(item);
      });
      var note = document.createElement("li");
      note.className = "muted";
      note.setAttribute("aria-hidden", "true");
      note.textContent = options.length ? (data.total > options.length ? options.length + " / " + data.total + " …" : "") : "–";
      if (note.textContent) list.appendChild(note);
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      if (options.length) highlight(0);
    }

    function search() {
      var text = input.value.trim();
      if (!text) { close(); return; }
      var mine = ++asked;
      var url = box.getAttribute("data-options") + "?q=" + encodeURIComponent(text) +
        (langInput ? "&lang=" + encodeURIComponent(langInput.value) : "");
      (window.lmSaveDraft ? window.lmSaveDraft() : Promise.resolve())
        .then(function () { return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }); })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data && mine === asked && input.value.trim()) show(data); })
        .catch(function () { if (button) button.hidden = false; });  // the server's search still works
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) { search(); return; }
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        event.preventDefault();  // never submits the questionnaire
        if (!list.hidden && active >= 0 && options[active]) choose(options[active]);
        else search();
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  for (var i = 0; i < boxes.length; i++) setUp(boxes[i]);
})();
