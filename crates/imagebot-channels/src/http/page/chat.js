// The chat, shared by the page (app.js) and the widget (widget.js): talks to
// POST /v1/answer, renders the server's escaped HTML for answers, offers
// suggestions and clarify options as buttons, keeps a message that failed to
// go out for a retry, and keeps the conversation in sessionStorage so that a
// reload shows it again. No libraries, no external files.
//
// mountChat(root, opts): root holds the markup (#title, #subtitle, #lang,
// #reset, #log, #composer, #input, #send), the page's document or the
// widget's shadow root. opts: api (the server's base URL, "" on the page),
// ui ("zh"/"en" when the embedder chose), storagePrefix, langTarget (the
// element whose lang follows the conversation), topics (a promise of
// /v1/topics, rejected with "refused" when this site may not use the chat),
// onReady.
function mountChat(root, opts) {
  "use strict";

  var UI = {
    zh: {
      title: "镜像助手",
      subtitle: "云服务器镜像常见问题",
      placeholder: "请输入您的问题…",
      send: "发送",
      reset: "新对话",
      langButton: "EN",
      welcome: "您好！我可以回答云服务器镜像（CVM 镜像）的常见问题：类型、计费、限制、共享、导入、出问题找谁帮忙……",
      starters: "试试这些问题：",
      more: "您还可以问：",
      choose: "请选择镜像类型：",
      ticket: "提交工单",
      ticketLabel: "需要人工处理？",
      vendorLabel: "联系镜像服务商",
      vendorWhere: "在镜像产品页面",
      vendorFallback: "必要时联系云市场客服",
      colon: "：",
      semicolon: "；",
      draft: "工单草稿（可复制后粘贴到工单里）",
      copy: "复制",
      copied: "已复制",
      thinking: "正在思考",
      failed: "发送失败，服务器出错了。",
      offline: "发送失败：无法连接到服务器，请检查网络。",
      rejected: "发送失败：",
      retry: "重试",
      expired: "之前的对话已过期，以下是新的对话。",
      refused: "此网站未获准使用这个聊天窗口（机器人的 --embed-origin 未列出 {origin}）。",
      channels: { "online service": "在线客服", phone: "电话", email: "邮件" }
    },
    en: {
      title: "Image assistant",
      subtitle: "FAQ on cloud server images",
      placeholder: "Ask a question…",
      send: "Send",
      reset: "New chat",
      langButton: "中文",
      welcome: "Hello! I answer common questions about cloud server (CVM) images: types, billing, limits, sharing, importing, where to get help when one breaks…",
      starters: "Try one of these:",
      more: "You could also ask:",
      choose: "Which kind of image?",
      ticket: "Submit a ticket",
      ticketLabel: "Need a person to look at it?",
      vendorLabel: "Contact the image's vendor",
      vendorWhere: "on the image's product page",
      vendorFallback: "if needed, marketplace customer service",
      colon: ": ",
      semicolon: "; ",
      draft: "Ticket draft (copy it into your ticket)",
      copy: "Copy",
      copied: "Copied",
      thinking: "Thinking",
      failed: "Not sent: the server had a problem.",
      offline: "Not sent: the server cannot be reached; check the connection.",
      rejected: "Not sent: ",
      retry: "Retry",
      expired: "The earlier conversation expired; this is a new one.",
      refused: "This site is not allowed to use this chat (the bot's --embed-origin does not list {origin}).",
      channels: {}
    }
  };
  // The labels inside a Traditional reply, in Taiwan standard (OpenCC
  // s2twp of the Chinese ones, as the server converts its own texts).
  UI.zhHant = Object.assign({}, UI.zh, {
    more: "您還可以問：",
    choose: "請選擇鏡像類型：",
    ticket: "提交工單",
    ticketLabel: "需要人工處理？",
    vendorLabel: "聯絡鏡像服務商",
    vendorWhere: "在鏡像產品頁面",
    vendorFallback: "必要時聯絡雲市場客服",
    draft: "工單草稿（可複製後貼上到工單裡）",
    copy: "複製",
    copied: "已複製",
    channels: { "online service": "線上客服", phone: "電話", email: "郵件" }
  });
  var STARTERS = ["what-is-image", "image-types", "image-billing", "image-trouble"];
  // BCP 47 tags for the reply languages the server names.
  var LANG_TAGS = { zh: "zh-Hans", "zh-hans": "zh-Hans", "zh-hant": "zh-Hant", "zh-tw": "zh-TW", "zh-hk": "zh-HK", en: "en" };
  // The most turns kept for a reload: enough for any real conversation.
  var MAX_TURNS = 80;

  var api = opts.api || "";
  var prefix = opts.storagePrefix || "imagebot-";
  function $(id) { return root.querySelector("#" + id); }
  var log = $("log");
  var form = $("composer");
  var input = $("input");
  var sendButton = $("send");
  var langButton = $("lang");
  var resetButton = $("reset");

  var state = {
    ui: opts.ui || pickUiLang(),
    session: load(window.sessionStorage, "session"),
    turns: loadTurns(),
    busy: false,
    refused: false,
    topics: [],
    types: {}
  };

  function load(storage, key) {
    try { return storage.getItem(prefix + key); } catch (e) { return null; }
  }

  // Storage may be off or full: the chat goes on, only unsaved.
  function store(storage, key, value) {
    try {
      if (value === null) storage.removeItem(prefix + key);
      else storage.setItem(prefix + key, value);
    } catch (e) { /* not saved */ }
  }

  function loadTurns() {
    try {
      var turns = JSON.parse(load(window.sessionStorage, "turns") || "[]");
      return Array.isArray(turns) ? turns : [];
    } catch (e) { return []; }
  }

  function saveTurn(turn) {
    state.turns.push(turn);
    if (state.turns.length > MAX_TURNS) state.turns = state.turns.slice(-MAX_TURNS);
    store(window.sessionStorage, "turns", JSON.stringify(state.turns));
  }

  function pickUiLang() {
    var saved = load(window.localStorage, "lang");
    if (saved === "zh" || saved === "en") return saved;
    return /^zh/i.test(navigator.language || "") ? "zh" : "en";
  }

  function t(key) { return UI[state.ui][key]; }

  function langTag(lang) {
    return LANG_TAGS[String(lang || "").toLowerCase()] || LANG_TAGS[state.ui];
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // The conversation's language for the page (or the widget's panel).
  function followLang(tag) {
    if (opts.langTarget) opts.langTarget.lang = tag;
  }

  function applyUi() {
    var tag = langTag(state.ui);
    var header = root.querySelector("header");
    if (header) header.lang = tag;
    form.lang = tag;
    $("title").textContent = t("title");
    $("subtitle").textContent = t("subtitle");
    input.placeholder = t("placeholder");
    input.setAttribute("aria-label", t("placeholder"));
    sendButton.textContent = t("send");
    resetButton.textContent = t("reset");
    langButton.textContent = t("langButton");
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addRow(who) {
    var row = el("div", "row " + who);
    var bubble = el("div", "bubble");
    row.appendChild(bubble);
    log.appendChild(row);
    return bubble;
  }

  function removeRow(bubble) {
    var row = bubble.parentNode;
    if (row && row.parentNode) row.parentNode.removeChild(row);
  }

  // Buttons of older replies stop working once the conversation moves on.
  function retireChoices() {
    var old = log.querySelectorAll(".choice.option");
    for (var i = 0; i < old.length; i++) old[i].disabled = true;
  }

  // A new message gives up on an older failed one: its answer would come out of order.
  function retireRetries() {
    var old = log.querySelectorAll(".retry");
    for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
  }

  function choices(hint, items, cls) {
    var box = el("div", "choices");
    box.appendChild(el("span", "hint", hint));
    items.forEach(function (item) {
      var b = el("button", "choice " + cls, item.label);
      b.type = "button";
      if (item.value) b.setAttribute("data-value", item.value);
      b.addEventListener("click", function () { send(item.message); });
      box.appendChild(b);
    });
    return box;
  }

  function typeLabel(id, lang) {
    var names = state.types[id];
    if (!names) return id;
    if (lang === "en") return names.en;
    if (lang === "zh-hant") return names["zh-hant"] || names.zh;
    return names.zh;
  }

  // Labels of our own (Simplified or English) inside a reply of another script.
  function uiFor(lang) { return lang === "en" ? UI.en : lang === "zh-hant" ? UI.zhHant : UI.zh; }
  function uiTag(lang) { return lang === "en" ? "en" : lang === "zh-hant" ? "zh-Hant" : "zh-Hans"; }

  function renderRoute(route, lang, bubble) {
    if (!route) return;
    var ui = uiFor(lang);
    var box = el("div", "route " + route.kind);
    box.lang = uiTag(lang);
    if (route.kind === "ticket") {
      box.appendChild(el("span", "label", ui.ticketLabel));
      var a = el("a", null, ui.ticket + " →");
      a.href = /^https?:\/\//.test(route.url) ? route.url : "#";
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      box.appendChild(a);
    } else if (route.kind === "vendor") {
      box.appendChild(el("span", "label", ui.vendorLabel));
      var ch = (route.channels || []).map(function (c) { return ui.channels[c] || c; });
      box.appendChild(el("span", null, ui.vendorWhere + ui.colon + ch.join(" / ") + ui.semicolon + ui.vendorFallback));
    } else if (route.kind === "clarify") {
      bubble.appendChild(choices(ui.choose, (route.options || []).map(function (id) {
        var name = typeLabel(id, lang);
        var label = name.charAt(0).toUpperCase() + name.slice(1);
        return { label: label, message: name, value: id };
      }), "option"));
      return;
    } else {
      return;
    }
    bubble.appendChild(box);
  }

  function ticketText(ticket) {
    if (typeof ticket === "string") return ticket;
    if (ticket && typeof ticket.text === "string") return ticket.text;
    if (ticket && typeof ticket.draft === "string") return ticket.draft;
    return Object.keys(ticket || {}).map(function (k) {
      var v = ticket[k];
      return k + ": " + (typeof v === "string" ? v : JSON.stringify(v));
    }).join("\n");
  }

  function copy(textValue, button, ui) {
    function done() {
      button.textContent = ui.copied;
      setTimeout(function () { button.textContent = ui.copy; }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(textValue).then(done, function () { fallbackCopy(textValue); done(); });
    } else {
      fallbackCopy(textValue);
      done();
    }
  }

  function fallbackCopy(textValue) {
    var area = el("textarea");
    area.value = textValue;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }

  function renderTicket(ticket, lang, bubble) {
    if (!ticket) return;
    var ui = uiFor(lang);
    var box = el("div", "draft");
    // The server's text has its own heading; a bare object gets ours.
    if (typeof ticket !== "string") box.appendChild(el("div", "label", ui.draft));
    var textValue = ticketText(ticket);
    box.appendChild(el("pre", null, textValue));
    var b = el("button", "choice copy", ui.copy);
    b.type = "button";
    b.lang = uiTag(lang);
    b.addEventListener("click", function () { copy(textValue, b, ui); });
    box.appendChild(b);
    bubble.appendChild(box);
  }

  function renderAnswer(data) {
    var answer = el("div", "answer");
    if (typeof data.html === "string") {
      // The server escapes everything and only writes <a href="http(s)...">.
      answer.innerHTML = data.html;
      var links = answer.querySelectorAll("a");
      for (var i = 0; i < links.length; i++) {
        if (!/^https?:\/\//.test(links[i].getAttribute("href") || "")) links[i].removeAttribute("href");
        links[i].target = "_blank";
        links[i].rel = "noopener noreferrer";
      }
    } else {
      answer.textContent = data.text || "";
    }
    return answer;
  }

  function renderReply(data) {
    var bubble = addRow("bot");
    var lang = String(data.lang || state.ui).toLowerCase();
    bubble.lang = langTag(lang);
    followLang(bubble.lang);
    bubble.appendChild(renderAnswer(data));
    renderRoute(data.route, lang, bubble);
    renderTicket(data.ticket_text || data.ticket, lang, bubble);
    if (data.suggestions && data.suggestions.length) {
      var more = choices(uiFor(lang).more, data.suggestions.map(function (q) {
        return { label: q, message: q };
      }), "suggestion");
      more.firstChild.lang = uiTag(lang);
      bubble.appendChild(more);
    }
    scrollDown();
  }

  function welcome() {
    var bubble = addRow("bot");
    bubble.classList.add("welcome");
    bubble.lang = langTag(state.ui);
    bubble.appendChild(el("div", "answer", t("welcome")));
    var byId = {};
    state.topics.forEach(function (tp) { byId[tp.id] = tp; });
    var items = STARTERS.filter(function (id) { return byId[id]; }).map(function (id) {
      var q = state.ui === "en" ? byId[id].question.en : byId[id].question.zh;
      return { label: q, message: q };
    });
    if (items.length) bubble.appendChild(choices(t("starters"), items, "suggestion"));
  }

  function expiredNote() {
    var note = el("div", "note", t("expired"));
    note.setAttribute("role", "note");
    return note;
  }

  // The turns of this session, as they were shown before a reload.
  function restore() {
    state.turns.forEach(function (turn) {
      if (turn.n) {
        log.appendChild(expiredNote());
      } else if (typeof turn.u === "string") {
        retireChoices();
        var b = addRow("user");
        b.textContent = turn.u;
        if (turn.lang) b.lang = langTag(turn.lang);
      } else if (turn.b) {
        renderReply(turn.b);
      }
    });
  }

  function setBusy(busy) {
    state.busy = busy;
    sendButton.disabled = busy || state.refused;
  }

  function post(message) {
    var body = { message: message, html: true };
    if (state.session) body.session_id = state.session;
    return fetch(api + "/v1/answer", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        var ok = res.ok && data && typeof data.session_id === "string";
        return { ok: ok, status: res.status, data: data || {} };
      });
    });
  }

  // Why a reply did not come: a 429 says how long to wait, a 5xx (or a
  // timeout) may pass, any other 4xx would only fail again.
  function failure(r) {
    var e = new Error(r.data.message || "HTTP " + r.status);
    e.status = r.status;
    e.retry = r.status === 429 || r.status === 408 || r.status >= 500;
    if (r.status === 429) {
      e.wait = typeof r.data.text === "string" ? r.data.text : "";
      e.retryAfter = Number(r.data.retry_after) || 1;
    }
    return e;
  }

  function failureText(err) {
    if (err.wait) return err.wait;
    if (!err.status) return t("offline");
    if (err.retry) return t("failed") + " (" + err.message + ")";
    return t("rejected") + err.message;
  }

  // The message stays in its bubble, marked as not sent, with a retry
  // button that sends it again in place; one that cannot succeed as it is
  // goes back into the input to be changed.
  function showFailure(pending, message, err) {
    pending.parentNode.classList.add("failed");
    var box = addRow("error");
    box.setAttribute("role", "alert");
    box.appendChild(el("span", "why", failureText(err)));
    if (err.retry === false) {
      if (!input.value) input.value = message;
    } else {
      var b = el("button", "choice retry", t("retry"));
      b.type = "button";
      if (err.retryAfter) {
        b.disabled = true;
        setTimeout(function () { b.disabled = false; }, err.retryAfter * 1000);
      }
      b.addEventListener("click", function () {
        if (state.busy) return;
        removeRow(box);
        send(message, pending);
      });
      box.appendChild(b);
    }
    scrollDown();
  }

  function received(data, message, pending, sentSession) {
    // The server forgot the session (expired, or restarted): the old turns
    // stay on screen, and a note says the context starts afresh here.
    if (sentSession && data.session_id !== sentSession) {
      log.insertBefore(expiredNote(), pending.parentNode);
      saveTurn({ n: 1 });
    }
    state.session = data.session_id;
    store(window.sessionStorage, "session", state.session);
    pending.lang = langTag(data.lang);
    saveTurn({ u: message, lang: data.lang });
    saveTurn({ b: data });
    renderReply(data);
  }

  // Sends a message; `pending` is the bubble of a failed one sent again.
  function send(message, pending) {
    message = (message || "").trim();
    if (!message || state.busy || state.refused) return;
    if (pending) {
      pending.parentNode.classList.remove("failed");
    } else {
      retireChoices();
      retireRetries();
      pending = addRow("user");
      pending.textContent = message;
    }
    var typing = addRow("bot");
    typing.parentNode.classList.add("typing");
    typing.appendChild(el("span", "dots", t("thinking")));
    scrollDown();
    setBusy(true);
    var sentSession = state.session;
    post(message).then(function (r) {
      removeRow(typing);
      if (!r.ok) throw failure(r);
      received(r.data, message, pending, sentSession);
    }).catch(function (err) {
      removeRow(typing);
      showFailure(pending, message, err);
    }).then(function () {
      setBusy(false);
      input.focus();
    });
  }

  function refuse() {
    state.refused = true;
    var b = addRow("error");
    b.setAttribute("role", "alert");
    b.textContent = t("refused").replace("{origin}", window.location.origin);
    input.disabled = true;
    setBusy(false);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (state.busy || state.refused) return;
    var m = input.value;
    input.value = "";
    autosize();
    send(m);
  });

  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 140) + "px";
  }
  input.addEventListener("input", autosize);

  langButton.addEventListener("click", function () {
    state.ui = state.ui === "zh" ? "en" : "zh";
    store(window.localStorage, "lang", state.ui);
    applyUi();
    if (log.children.length === 1) {
      log.innerHTML = "";
      welcome();
      followLang(langTag(state.ui));
    }
  });

  resetButton.addEventListener("click", function () {
    state.session = null;
    state.turns = [];
    store(window.sessionStorage, "session", null);
    store(window.sessionStorage, "turns", null);
    log.innerHTML = "";
    welcome();
    followLang(langTag(state.ui));
    input.focus();
  });

  applyUi();
  followLang(langTag(state.ui));
  var topics = opts.topics || fetch(api + "/v1/topics").then(function (r) { return r.json(); });
  topics.then(function (data) {
    state.topics = data.topics || [];
    (data.image_types || []).forEach(function (tp) { state.types[tp.id] = tp.name; });
  }).catch(function (why) {
    // Without topics the chat still works, only without starters.
    return why;
  }).then(function (why) {
    welcome();
    restore();
    if (why === "refused") refuse();
    if (opts.onReady) opts.onReady();
  });

  return {
    focus: function () { input.focus(); }
  };
}
