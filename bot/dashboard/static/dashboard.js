// Signing in from Telegram: a Mini App gets its signed start data in the address's fragment
// (#tgWebAppData=...); the server checks it against the bot token. Nothing else runs here.
"use strict";
(function () {
  var form = document.getElementById("telegram-signin");
  if (!form) { return; }
  var fragment = new URLSearchParams(window.location.hash.slice(1));
  var data = fragment.get("tgWebAppData");
  if (!data) { return; }
  // The start data must not stay in the address bar or the history.
  history.replaceState(null, "", window.location.pathname + window.location.search);
  form.elements.namedItem("init_data").value = data;
  var busy = document.getElementById("signin-busy");
  if (busy) { busy.hidden = false; }
  form.submit();
})();
