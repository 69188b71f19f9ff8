// A mailed link carries its token after the "#" (accounts/tokens.py), which
// browsers never send to the server: copy it into the page's form, drop it
// from the address bar and the history, and hide the field that asks for it.
"use strict";
(function () {
  var field = document.querySelector(".link-field input");
  var token = window.location.hash.slice(1);
  if (!field) return;
  if (token) {
    field.value = token;
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  if (field.value) field.closest(".link-field").hidden = true;
})();
