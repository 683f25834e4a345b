
// The web chat page: the chat (chat.js, served in the same file) on the
// whole page; `?lang=zh|en` picks the interface language.
(function () {
  "use strict";
  var q = /[?&]lang=(zh|en)\b/.exec(window.location.search);
  mountChat(document, {
    api: "",
    ui: q ? q[1] : null,
    storagePrefix: "imagebot-",
    langTarget: document.documentElement,
    onReady: function () { document.body.setAttribute("data-ready", "1"); }
  });
})();
