/* Live SMS preview for the status-change form (no inline script: CSP default-src 'self').
 *
 * Mirrors sms/encoding.py and sms/templates.prepare_free_text: the public note is put on one
 * line, folded to GSM-7, ended with a full stop and cut to 60 characters, then placed in the
 * SMS template of the chosen status; the page shows the message, its length in septets
 * (GSM-7) or UTF-16 units (UCS-2) and its number of SMS (160/153 or 70/67 per part).
 */
(function () {
  "use strict";

  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "\f^{}\\[~]|€";
  var FREE_TEXT_MAX = 60;
  var FOLDS = {
    "ç": "c", "œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "‚": "'", "‛": "'", "′": "'",
    "´": "'", "`": "'", "«": "\"", "»": "\"", "“": "\"", "”": "\"", "„": "\"", "″": "\"",
    "‹": "\"", "›": "\"", "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "…": "...",
    "•": "-", "·": ".", "°": "o", "\t": " ",
    "Ɖ": "D", "ɖ": "d", "Ƒ": "F", "ƒ": "f", "Ɣ": "G", "ɣ": "g", "Ŋ": "N", "ŋ": "n",
    "Ɔ": "O", "ɔ": "o", "Ɛ": "E", "ɛ": "e", "Ʋ": "V", "ʋ": "v"
  };

  function inBasic(ch) { return BASIC.indexOf(ch) !== -1; }
  function inExtension(ch) { return EXTENSION.indexOf(ch) !== -1; }
  function isGsm7(text) {
    for (var i = 0; i < text.length; i++) {
      if (!inBasic(text[i]) && !inExtension(text[i])) { return false; }
    }
    return true;
  }

  function foldChar(ch) {
    if (Object.prototype.hasOwnProperty.call(FOLDS, ch)) { return FOLDS[ch]; }
    if (inBasic(ch) || inExtension(ch)) { return ch; }
    if (/^\s$/.test(ch)) { return " "; }
    if (/^[\u0300-\u036f\u200b-\u200f\u2060\ufeff]$/.test(ch)) { return ""; }
    var base = ch.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
    if (base && base !== ch) {
      var folded = Array.from(base).map(foldChar).join("");
      if (isGsm7(folded) && folded.indexOf("?") === -1) { return folded; }
    }
    return "?";
  }

  function foldToGsm7(text) {
    return Array.from(text.normalize("NFC")).map(foldChar).join("");
  }

  function prepareFreeText(text, fold) {
    text = text.split(/\s+/).filter(Boolean).join(" ");
    if (fold) { text = foldToGsm7(text); }
    if (!text) { return ""; }
    if (".!?".indexOf(text[text.length - 1]) === -1) {
      text = text.replace(/[,;:\-]+$/, "") + ".";
    }
    if (text.length > FREE_TEXT_MAX) {
      text = text.slice(0, FREE_TEXT_MAX - 3).replace(/[ ,;:\-.]+$/, "") + "...";
    }
    return text;
  }

  /* Encoding, units and segments exactly as sms.encoding.sms_info counts them. */
  function smsInfo(text) {
    var costs = [];
    var encoding = isGsm7(text) ? "GSM-7" : "UCS-2";
    Array.from(text).forEach(function (ch) {
      if (encoding === "GSM-7") { costs.push(inBasic(ch) ? 1 : 2); }
      else { costs.push(ch.codePointAt(0) > 0xffff ? 2 : 1); }
    });
    var total = costs.reduce(function (a, b) { return a + b; }, 0);
    var single = encoding === "GSM-7" ? 160 : 70;
    var multi = encoding === "GSM-7" ? 153 : 67;
    if (total <= single) { return { encoding: encoding, units: total, segments: 1 }; }
    var parts = 1, used = 0;
    costs.forEach(function (cost) {
      if (used + cost > multi) { parts += 1; used = 0; }
      used += cost;
    });
    return { encoding: encoding, units: total, segments: parts };
  }

  function init() {
    var box = document.getElementById("sms-live");
    var select = document.getElementById("to_status");
    var note = document.getElementById("public_note");
    if (!box || !select || !note) { return; }
    var preview = document.getElementById("sms-preview");
    var count = document.getElementById("sms-count");
    var hint = document.getElementById("sms-note-hint");
    var marker = box.getAttribute("data-marker");
    var fold = box.getAttribute("data-fold") === "1";

    function update() {
      var option = select.options[select.selectedIndex];
      var template = option ? option.getAttribute("data-sms-template") || "" : "";
      var noteVar = option ? option.getAttribute("data-note-var") : "";
      if (!template) {
        preview.textContent = "";
        count.textContent = "pas de SMS pour ce statut";
        hint.textContent = "";
        return;
      }
      var raw = note.value;
      var input = raw.trim() ? raw : (option.getAttribute("data-empty-note") || "");
      var prepared = noteVar ? prepareFreeText(input, fold) : "";
      var message = template.split(marker).join(prepared).split(/\s+/).filter(Boolean).join(" ");
      var info = smsInfo(message);
      preview.textContent = message;
      count.textContent = info.units + (info.encoding === "GSM-7" ? " caractères" : " caractères UCS-2") +
        " · " + info.segments + " SMS";
      count.className = "sms-count" + (info.segments > 1 ? " sms-count-warn" : "");
      var notes = [];
      if (!noteVar && raw.trim()) {
        notes.push("Ce statut envoie un SMS type : la note reste dans l'historique mais n'est pas dans le SMS.");
      }
      if (noteVar && raw.trim() && prepared !== raw.trim().split(/\s+/).join(" ")) {
        notes.push("Note adaptée au SMS (accents hors GSM-7 remplacés, 60 caractères au plus).");
      }
      hint.textContent = notes.join(" ");
    }

    select.addEventListener("change", update);
    note.addEventListener("input", update);
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  window.G3Sms = { smsInfo: smsInfo, foldToGsm7: foldToGsm7, prepareFreeText: prepareFreeText };
}());
