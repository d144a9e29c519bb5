/* Opens an OML feedback report with its access code, entirely in the browser (Web Crypto API).
 * The format is documented in docs/reports.md ("The format, for an independent decryptor") and in
 * oml/access/crypto.py. Nothing is stored: no cookies, no localStorage, the code never leaves the page.
 * The form's data-mode says where the encrypted report is: "index" (find the file named after the
 * code and fetch it) or "embedded" (this page carries it in <script id="oml-report">). */
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
  var HEADER = 25, NONCE = 12, TAG = 16;
  var MESSAGES = {
    format: "Deze code is niet volledig of bevat een teken dat niet in toegangscodes voorkomt. Een code heeft " + LENGTH + " tekens: de cijfers 2 tot en met 9 en hoofdletters (geen I, L, O of U).",
    wrong: "Deze code opent geen rapport. Controleer de code en probeer het opnieuw.",
    offline: "Het rapport kon niet worden geladen. Open deze pagina via de website (niet als los bestand op uw computer) en probeer het opnieuw.",
    nocrypto: "Deze browser kan het rapport niet openen. Gebruik een recente browser en open de pagina via een beveiligde verbinding (https).",
    busy: "Het rapport wordt geopend\u2026"
  };

  function WrongCode() {}
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
    var binary = atob(text.replace(/\s+/g, ""));
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { out[i] = binary.charCodeAt(i); }
    return out;
  }

  /* The file name of the report a code opens: sha256(prefix + code), first 32 hex digits. */
  async function locate(code) {
    return hex(await crypto.subtle.digest("SHA-256", utf8(LOCATOR_PREFIX + code))).slice(0, LOCATOR_HEX);
  }

  /* blob = magic(4) version(1) iterations(4, big-endian) salt(16) | nonce(12) | ciphertext+tag.
   * key = PBKDF2-SHA256(code, salt, iterations); AES-256-GCM with the 25 header bytes as additional data. */
  async function openBlob(blob, code) {
    if (blob.length < HEADER + NONCE + TAG) { throw new WrongCode(); }
    var view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    var magic = String.fromCharCode(blob[0], blob[1], blob[2], blob[3]);
    var iterations = view.getUint32(5, false);
    if (magic !== MAGIC || blob[4] !== VERSION || iterations < MIN_ITERATIONS) { throw new WrongCode(); }
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
    var end = padded.length;
    while (end > 0 && padded[end - 1] === 0) { end--; }
    if (end === 0 || padded[end - 1] !== 0x80) { throw new WrongCode(); }
    return new TextDecoder("utf-8", { fatal: true }).decode(padded.subarray(0, end - 1));
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
    if (!blob) { throw new WrongCode(); }
    return blob;
  }

  function show(html) {
    /* The report is a complete, self-contained document: it replaces this page. */
    document.open();
    document.write(html);
    document.close();
  }

  var form = document.getElementById("oml-form");
  var input = document.getElementById("oml-code");
  var button = document.getElementById("oml-open");
  var alertBox = document.getElementById("oml-error");
  var statusBox = document.getElementById("oml-status");

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
      fail(err instanceof Offline ? MESSAGES.offline : MESSAGES.wrong);
      return;
    }
    show(html);
  });
})();
