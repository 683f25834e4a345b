// The widget's mount, after chat.js in /widget.js's closure (which also
// brings WIDGET_CSS): a floating chat button and a panel in a shadow root
// on the host page, so no style crosses either way. The chat talks to the
// server the script came from; the server's CORS lets only the sites named
// by --embed-origin do so, and the panel says so on any other.
var WIDGET_LABELS = {
  zh: { open: "打开镜像助手", close: "关闭" },
  en: { open: "Open the image assistant", close: "Close" }
};
var WIDGET_MARKUP =
  '<button type="button" class="launcher" aria-expanded="false" aria-controls="app">' +
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/></svg>' +
  '</button>' +
  '<div id="app" class="panel" role="dialog" hidden>' +
  '<header><div class="brand"><span class="logo" aria-hidden="true">◎</span>' +
  '<div><h1 id="title"></h1><p id="subtitle"></p></div></div>' +
  '<div class="tools"><button type="button" id="lang" class="tool"></button>' +
  '<button type="button" id="reset" class="tool"></button>' +
  '<button type="button" id="close" class="tool close">×</button></div></header>' +
  '<div id="log" role="log" aria-live="polite"></div>' +
  '<form id="composer" autocomplete="off">' +
  '<textarea id="input" rows="1" maxlength="2000" enterkeyhint="send"></textarea>' +
  '<button type="submit" id="send"></button></form>' +
  '</div>';

var widgetScript = document.currentScript;
// The server's base: where this script came from, less its own name.
var widgetApi = widgetScript && widgetScript.src
  ? widgetScript.src.replace(/\/widget\.js(?:[?#].*)?$/, "")
  : "";

function widgetLang() {
  var asked = widgetScript && widgetScript.getAttribute("data-lang");
  if (asked === "zh" || asked === "en") return asked;
  return /^zh/i.test(navigator.language || "") ? "zh" : "en";
}

// The topics, or why not: a CORS refusal and a server that is down look
// alike to fetch; an opaque (no-cors) request reaches the server in the
// first case only.
function probeTopics() {
  return fetch(widgetApi + "/v1/topics").then(function (r) {
    if (!r.ok) throw "unavailable";
    return r.json();
  }, function () {
    return fetch(widgetApi + "/healthz", { mode: "no-cors" }).then(function () {
      throw "refused";
    }, function () {
      throw "unreachable";
    });
  });
}

function widgetStyles(shadow) {
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (e) {
    var style = document.createElement("style");
    style.textContent = WIDGET_CSS;
    shadow.appendChild(style);
  }
}

function rememberOpen(open) {
  try {
    if (open) window.sessionStorage.setItem("imagebot-widget-open", "1");
    else window.sessionStorage.removeItem("imagebot-widget-open");
  } catch (e) { /* storage off: it starts closed */ }
}

function wasOpen() {
  try { return window.sessionStorage.getItem("imagebot-widget-open") === "1"; } catch (e) { return false; }
}

function mountWidget() {
  var host = document.createElement("imagebot-chat");
  var shadow = host.attachShadow({ mode: "open" });
  shadow.innerHTML = WIDGET_MARKUP;
  widgetStyles(shadow);
  var ui = widgetLang();
  var launcher = shadow.querySelector(".launcher");
  var panel = shadow.querySelector(".panel");
  var closeButton = shadow.querySelector("#close");
  launcher.setAttribute("aria-label", WIDGET_LABELS[ui].open);
  panel.setAttribute("aria-label", WIDGET_LABELS[ui].open);
  closeButton.setAttribute("aria-label", WIDGET_LABELS[ui].close);
  document.body.appendChild(host);

  var chat = mountChat(shadow, {
    api: widgetApi,
    ui: ui,
    storagePrefix: "imagebot-widget-",
    langTarget: panel,
    topics: probeTopics(),
    onReady: function () { host.setAttribute("data-ready", "1"); }
  });

  function setOpen(open, moveFocus) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.classList.toggle("open", open);
    rememberOpen(open);
    if (moveFocus) {
      if (open) chat.focus();
      else launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden, true); });
  closeButton.addEventListener("click", function () { setOpen(false, true); });
  shadow.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !e.isComposing && !panel.hidden) {
      e.stopPropagation();
      setOpen(false, true);
    }
  });
  if (wasOpen()) setOpen(true, false);
}

if (!document.querySelector("imagebot-chat")) {
  if (document.body) mountWidget();
  else document.addEventListener("DOMContentLoaded", mountWidget);
}
