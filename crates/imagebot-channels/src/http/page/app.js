// The web chat page: talks to POST /v1/answer, renders the server's escaped
// HTML for answers, offers suggestions and clarify options as buttons.
// No libraries, no external files.
(function () {
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
      draft: "工单草稿（可复制后粘贴到工单里）",
      copy: "复制",
      copied: "已复制",
      thinking: "正在思考",
      failed: "出错了，请稍后重试。",
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
      draft: "Ticket draft (copy it into your ticket)",
      copy: "Copy",
      copied: "Copied",
      thinking: "Thinking",
      failed: "Something went wrong; please try again.",
      channels: {}
    }
  };
  var STARTERS = ["what-is-image", "image-types", "image-billing", "image-trouble"];

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var sendButton = document.getElementById("send");
  var langButton = document.getElementById("lang");
  var resetButton = document.getElementById("reset");

  var state = {
    ui: pickUiLang(),
    session: null,
    busy: false,
    topics: [],
    types: {}
  };
  try { state.session = window.sessionStorage.getItem("imagebot-session"); } catch (e) { /* storage off */ }

  function pickUiLang() {
    var q = /[?&]lang=(zh|en)\b/.exec(window.location.search);
    if (q) return q[1];
    try {
      var saved = window.localStorage.getItem("imagebot-lang");
      if (saved === "zh" || saved === "en") return saved;
    } catch (e) { /* storage off */ }
    return /^zh/i.test(navigator.language || "") ? "zh" : "en";
  }

  function t(key) { return UI[state.ui][key]; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function applyUi() {
    document.documentElement.lang = state.ui === "zh" ? "zh-CN" : "en";
    document.getElementById("title").textContent = t("title");
    document.getElementById("subtitle").textContent = t("subtitle");
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

  // Buttons of older replies stop working once the conversation moves on.
  function retireChoices() {
    var old = log.querySelectorAll(".choice.option");
    for (var i = 0; i < old.length; i++) old[i].disabled = true;
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

  function renderRoute(route, lang, bubble) {
    if (!route) return;
    var ui = lang === "en" ? UI.en : UI.zh;
    var box = el("div", "route " + route.kind);
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
      box.appendChild(el("span", null, ui.vendorWhere + "：" + ch.join(" / ") + "；" + ui.vendorFallback));
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
    var ui = lang === "en" ? UI.en : UI.zh;
    var box = el("div", "draft");
    // The server's text has its own heading; a bare object gets ours.
    if (typeof ticket !== "string") box.appendChild(el("div", "label", ui.draft));
    var textValue = ticketText(ticket);
    box.appendChild(el("pre", null, textValue));
    var b = el("button", "choice copy", ui.copy);
    b.type = "button";
    b.addEventListener("click", function () { copy(textValue, b, ui); });
    box.appendChild(b);
    bubble.appendChild(box);
  }

  function renderReply(data) {
    var bubble = addRow("bot");
    var lang = data.lang || state.ui;
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
    bubble.appendChild(answer);
    renderRoute(data.route, lang, bubble);
    renderTicket(data.ticket_text || data.ticket, lang, bubble);
    if (data.suggestions && data.suggestions.length) {
      var ui = lang === "en" ? UI.en : UI.zh;
      bubble.appendChild(choices(ui.more, data.suggestions.map(function (q) {
        return { label: q, message: q };
      }), "suggestion"));
    }
    scrollDown();
  }

  function welcome() {
    var bubble = addRow("bot");
    bubble.classList.add("welcome");
    bubble.appendChild(el("div", "answer", t("welcome")));
    var byId = {};
    state.topics.forEach(function (tp) { byId[tp.id] = tp; });
    var items = STARTERS.filter(function (id) { return byId[id]; }).map(function (id) {
      var q = state.ui === "en" ? byId[id].question.en : byId[id].question.zh;
      return { label: q, message: q };
    });
    if (items.length) bubble.appendChild(choices(t("starters"), items, "suggestion"));
  }

  function setBusy(busy) {
    state.busy = busy;
    sendButton.disabled = busy;
  }

  function send(message) {
    message = (message || "").trim();
    if (!message || state.busy) return;
    retireChoices();
    addRow("user").textContent = message;
    var typing = addRow("bot");
    typing.parentNode.classList.add("typing");
    typing.appendChild(el("span", "dots", t("thinking")));
    scrollDown();
    setBusy(true);
    var body = { message: message, html: true };
    if (state.session) body.session_id = state.session;
    fetch("/v1/answer", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().then(function (data) { return { ok: res.ok, data: data }; });
    }).then(function (r) {
      log.removeChild(typing.parentNode);
      // A 429 (too many messages) still carries a reply to show: the wait.
      if (!r.ok && !(r.data && typeof r.data.text === "string")) throw new Error(r.data && r.data.message);
      state.session = r.data.session_id;
      try { window.sessionStorage.setItem("imagebot-session", state.session); } catch (e) { /* storage off */ }
      renderReply(r.data);
    }).catch(function (err) {
      if (typing.parentNode && typing.parentNode.parentNode) log.removeChild(typing.parentNode);
      var b = addRow("error");
      b.textContent = t("failed") + (err && err.message ? " (" + err.message + ")" : "");
      scrollDown();
    }).then(function () {
      setBusy(false);
      input.focus();
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
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
    try { window.localStorage.setItem("imagebot-lang", state.ui); } catch (e) { /* storage off */ }
    applyUi();
    if (log.children.length === 1) { log.innerHTML = ""; welcome(); }
  });

  resetButton.addEventListener("click", function () {
    state.session = null;
    try { window.sessionStorage.removeItem("imagebot-session"); } catch (e) { /* storage off */ }
    log.innerHTML = "";
    welcome();
    input.focus();
  });

  applyUi();
  fetch("/v1/topics").then(function (r) { return r.json(); }).then(function (data) {
    state.topics = data.topics || [];
    (data.image_types || []).forEach(function (tp) { state.types[tp.id] = tp.name; });
  }).catch(function () { /* the page still works without starters */ }).then(function () {
    welcome();
    document.body.setAttribute("data-ready", "1");
  });
})();
