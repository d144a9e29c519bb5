/* Opens an OML feedback report with its access code, entirely in the browser (Web Crypto API).
 * The format is documented in docs/reports.md ("The format, for an independent decryptor") and in
 * oml/access/crypto.py. Nothing is stored: no cookies, no localStorage, the code never leaves the page.
 * The form's data-mode says where the encrypted report is: "index" (find the file named after the
 * code and fetch it) or "embedded" (this page carries it in <script id="oml-report">).
 *
 * The page's Content-Security-Policy allows this script only (by its hash): the decrypted report is
 * parsed inertly (DOMParser) and shown in this page, where none of its scripts or event handlers can run.
 * The title stays generic, and on pagehide the report is wiped, so the back/forward cache and the
 * browser's history never hold it. */
(function () {
  "use strict";
  var ALPHABET = "@@ALPHABET@@";
  var LENGTH = @@LENGTH@@;
  var SEPARATORS = /[\s\-_.\u2010-\u2014]/g;
  var LOCATOR_PREFIX = "@@LOCATOR_PREFIX@@\n";
  var LOCATOR_HEX = @@LOCATOR_HEX@@;
  var MAGIC = "@@MAGIC@@";
  var VERSION = @@VERSION@@;
  var MIN_ITERATIONS = @@MIN_ITERATIONS@@;
  var MAX_ITERATIONS = @@MAX_ITERATIONS@@;
  var PAD_BLOCK = @@PAD_BLOCK@@;
  var TITLE = "@@TITLE@@";
  var HEADER = 25, NONCE = 12, TAG = 16;
  var MESSAGES = {
    format: "Deze code is niet volledig of bevat een teken dat niet in toegangscodes voorkomt. Een code heeft " + LENGTH + " tekens: de cijfers 2 tot en met 9 en hoofdletters (geen I, L, O of U).",
    wrong: "Deze code opent geen rapport. Controleer de code en probeer het opnieuw.",
    damaged: "Dit rapportbestand is beschadigd of heeft een onbekende vorm en wordt niet geopend.",
    offline: "Het rapport kon niet worden geladen. Open deze pagina via de website (niet als los bestand op uw computer) en probeer het opnieuw.",
    nocrypto: "Deze browser kan het rapport niet openen. Gebruik een recente browser en open de pagina via een beveiligde verbinding (https).",
    busy: "Het rapport wordt geopend\u2026"
  };

  function WrongCode() {}
  function Damaged() {}
  function Offline() {}

  function normalise(text) { return String(text).toUpperCase().replace(SEPARATORS, ""); }
  function isWellFormed(code) {
    if (code.length !== LENGTH) { return false; }
    for (var i = 0; i < code.length; i++) {
      if (ALPHABET.indexOf(code.charAt(i)) < 0) { return false; }
    }
    return true;
  }
  function utf8(text) { return new TextEncoder().encode(text); }
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  function fromBase64(text) {
    var binary;
    try {
      binary = atob(text.replace(/\s+/g, ""));
    } catch (e) {
      throw new Damaged();
    }
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { out[i] = binary.charCodeAt(i); }
    return out;
  }

  /* The file name of the report a code opens: sha256(prefix + code), first 32 hex digits. */
  async function locate(code) {
    return hex(await crypto.subtle.digest("SHA-256", utf8(LOCATOR_PREFIX + code))).slice(0, LOCATOR_HEX);
  }

  /* blob = magic(4) version(1) iterations(4, big-endian) salt(16) | nonce(12) | ciphertext+tag.
   * key = PBKDF2-SHA256(code, salt, iterations); AES-256-GCM with the 25 header bytes as additional data.
   * The header is checked before any derivation: the iteration count is authenticated only by the tag,
   * which needs the key, so a hostile count (up to 2^32 - 1) must be refused first. */
  async function openBlob(blob, code) {
    if (!blob || blob.length < HEADER + NONCE + TAG) { throw new Damaged(); }
    var view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    var magic = String.fromCharCode(blob[0], blob[1], blob[2], blob[3]);
    var iterations = view.getUint32(5, false);
    if (magic !== MAGIC || blob[4] !== VERSION) { throw new Damaged(); }
    if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) { throw new Damaged(); }
    var header = blob.slice(0, HEADER);
    var salt = blob.slice(9, HEADER);
    var nonce = blob.slice(HEADER, HEADER + NONCE);
    var material = await crypto.subtle.importKey("raw", utf8(code), "PBKDF2", false, ["deriveKey"]);
    var key = await crypto.subtle.deriveKey(
      { name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: iterations },
      material, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
    var padded;
    try {
      padded = new Uint8Array(await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce, additionalData: header, tagLength: 128 }, key, blob.slice(HEADER + NONCE)));
    } catch (e) {
      throw new WrongCode();  /* the tag did not verify: wrong code (or a damaged file) */
    }
    /* Padding: a multiple of PAD_BLOCK bytes, the document, one 0x80 byte, then zeros. */
    var end = padded.length;
    while (end > 0 && padded[end - 1] === 0) { end--; }
    if (padded.length % PAD_BLOCK !== 0 || end === 0 || padded[end - 1] !== 0x80) { throw new Damaged(); }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(padded.subarray(0, end - 1));
    } catch (e) {
      throw new Damaged();
    }
  }

  function payloadOf(doc) {
    var element = doc.getElementById("oml-report");
    return element ? fromBase64(element.textContent) : null;
  }

  async function fetchBlob(code) {
    var response;
    try {
      response = await fetch((await locate(code)) + ".html", { cache: "no-store", credentials: "omit" });
    } catch (e) {
      throw new Offline();
    }
    if (response.status === 404 || response.status === 410) { throw new WrongCode(); }
    if (!response.ok) { throw new Offline(); }
    var blob = payloadOf(new DOMParser().parseFromString(await response.text(), "text/html"));
    if (!blob) { throw new Damaged(); }
    return blob;
  }

  var form = document.getElementById("oml-form");
  var input = document.getElementById("oml-code");
  var button = document.getElementById("oml-open");
  var alertBox = document.getElementById("oml-error");
  var statusBox = document.getElementById("oml-status");
  var pageStyle = document.getElementById("oml-access-style");
  var shown = null;  /* while a report is shown: the code page's own body nodes, to put back */

  function show(html) {
    /* A DOMParser document is inert: its scripts never run and nothing in it loads. Its styles and body
     * are moved into this page, whose Content-Security-Policy runs no script but this one (no inline
     * handler, no javascript: link); its <title> (the school's name) is left behind. */
    var doc = new DOMParser().parseFromString(html, "text/html");
    shown = Array.prototype.slice.call(document.body.childNodes);
    var styles = doc.head ? doc.head.querySelectorAll("style") : [];
    pageStyle.parentNode.removeChild(pageStyle);
    for (var i = 0; i < styles.length; i++) {
      var style = document.importNode(styles[i], true);
      style.setAttribute("data-oml-report", "");
      document.head.appendChild(style);
    }
    /* The policy stops scripts, not a <meta http-equiv="refresh"> (a redirect): a report has no use for <meta>. */
    var metas = doc.body ? doc.body.querySelectorAll("meta") : [];
    for (var m = 0; m < metas.length; m++) { metas[m].parentNode.removeChild(metas[m]); }
    var body = document.createDocumentFragment();
    while (doc.body && doc.body.firstChild) { body.appendChild(document.adoptNode(doc.body.firstChild)); }
    while (document.body.firstChild) { document.body.removeChild(document.body.firstChild); }
    document.body.appendChild(body);
    document.title = TITLE;
    window.scrollTo(0, 0);
    /* Screen readers start at the report's heading (focusable by script only, so no focus ring). */
    var heading = document.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.style.outline = "none";
      heading.focus({ preventScroll: true });
    }
  }

  /* Back to the code form, with an empty field: on pagehide, so that the back/forward cache keeps
   * (and a Back or Forward shows) the form, never the report or a typed code. */
  function wipe() {
    if (shown) {
      var added = document.head.querySelectorAll("style[data-oml-report]");
      for (var i = 0; i < added.length; i++) { added[i].parentNode.removeChild(added[i]); }
      document.head.appendChild(pageStyle);
      while (document.body.firstChild) { document.body.removeChild(document.body.firstChild); }
      for (var j = 0; j < shown.length; j++) { document.body.appendChild(shown[j]); }
      shown = null;
    }
    document.title = TITLE;
    input.value = "";
    input.removeAttribute("aria-invalid");
    alertBox.textContent = "";
    statusBox.textContent = "";
    button.disabled = false;
  }
  window.addEventListener("pagehide", wipe);

  function fail(message) {
    statusBox.textContent = "";
    alertBox.textContent = message;
    input.setAttribute("aria-invalid", "true");
    button.disabled = false;
    input.focus();
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    alertBox.textContent = "";
    input.removeAttribute("aria-invalid");
    if (!window.crypto || !window.crypto.subtle) { fail(MESSAGES.nocrypto); return; }
    var code = normalise(input.value);
    if (!isWellFormed(code)) { fail(MESSAGES.format); return; }
    statusBox.textContent = MESSAGES.busy;
    button.disabled = true;
    var html;
    try {
      var blob = form.getAttribute("data-mode") === "embedded" ? payloadOf(document) : await fetchBlob(code);
      html = await openBlob(blob, code);
    } catch (err) {
      fail(err instanceof Offline ? MESSAGES.offline : err instanceof Damaged ? MESSAGES.damaged : MESSAGES.wrong);
      return;
    }
    input.value = "";
    statusBox.textContent = "";
    button.disabled = false;
    show(html);
  });
})();
