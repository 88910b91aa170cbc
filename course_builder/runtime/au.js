/* The assignable unit of a course-builder module: shows the pages, asks the questions, and reports to the LMS
   as cmi5 says (through the bundled @xapi/cmi5 library): initialized, progressed, answered, passed/failed,
   completed, terminated; the bookmark lives in the State resource so a learner can resume.
   Opened without launch parameters it is a preview that reports nothing. */
(function () {
  "use strict";
  var mod = JSON.parse(document.getElementById("module").textContent);
  var en = mod.language === "en";
  var T = en ? {
    next: "Next", prev: "Back", check: "Check answer", finish: "Finish", right: "Correct.", wrong: "Not correct.",
    answerAll: "Answer every question before you finish.", passed: "Passed", failed: "Not passed",
    score: "Score", again: "Open the module again to try once more.", back: "Back to my plan",
    preview: "Preview: nothing is recorded.", page: "Page", of: "of", error: "Could not reach the learning record store: ",
    done: "You have finished this module. You can close this window."
  } : {
    next: "Neste", prev: "Tilbake", check: "Sjekk svaret", finish: "Fullfør", right: "Riktig.", wrong: "Ikke riktig.",
    answerAll: "Svar på alle spørsmålene før du fullfører.", passed: "Bestått", failed: "Ikke bestått",
    score: "Resultat", again: "Åpne modulen på nytt for å prøve igjen.", back: "Tilbake til planen min",
    preview: "Forhåndsvisning: ingenting blir lagret.", page: "Side", of: "av",
    error: "Fikk ikke kontakt med læringsregisteret: ", done: "Du er ferdig med modulen. Du kan lukke vinduet."
  };
  var app = document.getElementById("app");
  var cmi5 = null, launchData = {}, params = null;
  var questions = [];
  mod.pages.forEach(function (p) { p.parts.forEach(function (part) { if (part.question) questions.push(part.question); }); });
  var state = { page: 0, answers: {}, completed: false, passed: false, seen: [] };
  var finished = false;
  var pending = [];  // statements and bookmark writes under way: terminated must come after all of them

  function lang(map) { return map[mod.language] || map.nb || map[Object.keys(map)[0]]; }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k]; else if (k === "html") e.innerHTML = attrs[k]; else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function normal() { return cmi5 && launchData.launchMode === "Normal"; }
  function report(promise) {
    var p = Promise.resolve(promise);
    pending.push(p.catch(function () {}));
    return p.catch(function (e) {
      var p = el("p", { "class": "error", role: "alert", text: T.error + (e && e.message ? e.message : e) });
      app.insertBefore(p, app.firstChild);
      throw e;
    });
  }
  // Bookmark writes go one after another: two in flight at once may land in either order, and an older one
  // landing last would lose the learner's newest answer.
  var lastBookmark = Promise.resolve();
  function saveBookmark() {
    if (!cmi5) return Promise.resolve();
    lastBookmark = lastBookmark.catch(function () {}).then(function () {
      return cmi5.xapi.setState({
        agent: params.actor, activityId: params.activityId, registration: params.registration,
        stateId: "bookmark", state: state
      });
    });
    return report(lastBookmark);
  }
  function mastery() {
    return typeof launchData.masteryScore === "number" ? launchData.masteryScore : mod.passMark;
  }
  function isRight(q, chosen) {
    var right = q.options.filter(function (o) { return o.correct; }).map(function (o) { return o.id; }).sort();
    return JSON.stringify(right) === JSON.stringify(chosen.slice().sort());
  }

  function renderQuestion(q) {
    var box = el("fieldset", { "class": "question", "data-question": q.id });
    box.appendChild(el("legend", { text: q.text }));
    var answered = state.answers[q.id];
    var kind = q.type === "multiple" ? "checkbox" : "radio";
    q.options.forEach(function (o) {
      var label = q.type !== "truefalse" ? o.text : (o.id === "true" ? (en ? "True" : "Sant") : (en ? "False" : "Usant"));
      var input = el("input", { type: kind, name: "q-" + q.id, value: o.id, id: "q-" + q.id + "-" + o.id });
      if (answered) { input.disabled = true; input.checked = answered.indexOf(o.id) >= 0; }
      box.appendChild(el("div", { "class": "option" }, [input, el("label", { "for": input.id, text: label })]));
    });
    var feedback = el("p", { "class": "feedback", role: "status" });
    var button = el("button", { type: "button", "class": "check", text: T.check });
    function show(chosen) {
      var ok = isRight(q, chosen);
      var extra = q.options.filter(function (o) { return chosen.indexOf(o.id) >= 0 && o.feedback; })
        .map(function (o) { return o.feedback; });
      var text = (ok ? T.right : T.wrong) + " " + ((q.feedback || {})[ok ? "correct" : "incorrect"] || "") + " " + extra.join(" ");
      feedback.textContent = text.trim();
      feedback.className = "feedback " + (ok ? "right" : "wrong");
      button.disabled = true;
    }
    if (answered) show(answered);
    button.addEventListener("click", function () {
      var chosen = Array.prototype.slice.call(box.querySelectorAll("input:checked")).map(function (i) { return i.value; });
      if (!chosen.length) return;
      box.querySelectorAll("input").forEach(function (i) { i.disabled = true; });
      state.answers[q.id] = chosen;
      show(chosen);
      var ok = isRight(q, chosen);
      if (normal()) {
        var correct = q.options.filter(function (o) { return o.correct; }).map(function (o) { return o.id; });
        var name = {}; name[mod.language] = q.text;
        if (q.type === "truefalse") {
          report(cmi5.interactionTrueFalse("quiz", q.id, chosen[0] === "true", correct[0] === "true", name, undefined, ok));
        } else {
          var choices = q.options.map(function (o) { var d = {}; d[mod.language] = o.text; return { id: o.id, description: d }; });
          report(cmi5.interactionChoice("quiz", q.id, chosen, correct, choices, name, undefined, ok));
        }
      }
      saveBookmark();
    });
    box.appendChild(button);
    box.appendChild(feedback);
    return box;
  }

  function renderPage() {
    var page = mod.pages[state.page];
    app.innerHTML = "";
    if (!cmi5) app.appendChild(el("p", { "class": "preview", text: T.preview }));
    var bar = el("progress", { max: String(mod.pages.length), value: String(state.page + 1) });
    app.appendChild(el("header", {}, [el("p", { "class": "module-title", text: lang(mod.title) }), bar,
      el("p", { "class": "page-count", text: T.page + " " + (state.page + 1) + " " + T.of + " " + mod.pages.length })]));
    var article = el("article", {});
    page.parts.forEach(function (part) {
      article.appendChild(part.html !== undefined ? el("div", { "class": "content", html: part.html }) : renderQuestion(part.question));
    });
    app.appendChild(article);
    var nav = el("nav", {});
    if (state.page > 0) nav.appendChild(button(T.prev, "prev", function () { go(state.page - 1); }));
    if (state.page < mod.pages.length - 1) nav.appendChild(button(T.next, "next", function () { go(state.page + 1); }));
    else nav.appendChild(button(T.finish, "finish", finish));
    app.appendChild(nav);
    window.scrollTo(0, 0);
  }
  function button(text, cls, onclick) {
    var b = el("button", { type: "button", "class": cls, text: text });
    b.addEventListener("click", onclick);
    return b;
  }
  function go(n) {
    state.page = n;
    if (state.seen.indexOf(n) < 0) state.seen.push(n);
    renderPage();
    if (normal() && !state.completed) report(cmi5.progress(Math.round(100 * state.seen.length / mod.pages.length)));
    saveBookmark();
  }

  function finish() {
    if (finished) return;
    var missing = questions.filter(function (q) { return !state.answers[q.id]; });
    if (missing.length) {
      var p = app.querySelector(".missing") || app.appendChild(el("p", { "class": "missing", role: "alert" }));
      p.textContent = T.answerAll;
      return;
    }
    finished = true;
    var right = questions.filter(function (q) { return isRight(q, state.answers[q.id]); }).length;
    var score = questions.length ? right / questions.length : 1;
    var passed = !questions.length || score >= mastery();
    var steps = Promise.all(pending);
    if (normal()) {
      if (questions.length && !state.passed) {
        steps = steps.then(function () { return passed ? cmi5.pass(score) : cmi5.fail(score); });
      }
      if (!state.completed) steps = steps.then(function () { return cmi5.complete(); });
    }
    state.completed = true;
    state.passed = state.passed || passed;
    if (!passed) state = { page: 0, answers: {}, completed: true, passed: false, seen: [] }; // a new try next time
    steps = steps.then(saveBookmark).then(function () { return cmi5 ? cmi5.terminate() : null; });
    report(steps).then(function () { showResult(passed, right, score); });
  }

  function showResult(passed, right, score) {
    app.innerHTML = "";
    var box = el("section", { "class": "result " + (passed ? "passed" : "failed") });
    box.appendChild(el("h1", { text: passed ? T.passed : T.failed }));
    if (questions.length) {
      box.appendChild(el("p", { "class": "score", text: T.score + ": " + right + " / " + questions.length + " (" + Math.round(score * 100) + " %)" }));
    }
    if (!passed) box.appendChild(el("p", { text: T.again }));
    if (launchData.returnURL) {
      box.appendChild(el("a", { href: launchData.returnURL, "class": "return", text: T.back }));
    } else {
      box.appendChild(el("p", { text: T.done }));
    }
    app.appendChild(box);
  }

  function start() {
    if (!window.Cmi5 || !Cmi5.isCmiAvailable) { renderPage(); return Promise.resolve(); }
    cmi5 = new Cmi5();
    return report(cmi5.initialize()).then(function () {
      launchData = cmi5.getLaunchData();
      params = cmi5.getLaunchParameters();
      return cmi5.xapi.getState({ agent: params.actor, activityId: params.activityId, registration: params.registration,
        stateId: "bookmark" }).then(function (r) {
        if (r && r.data && typeof r.data === "object") state = Object.assign(state, r.data);
      }, function () { /* no bookmark yet */ });
    }).then(function () {
      if (state.page >= mod.pages.length) state.page = 0;
      if (state.seen.indexOf(state.page) < 0) state.seen.push(state.page);
      renderPage();
    });
  }
  start();
})();
