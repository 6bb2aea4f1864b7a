// webauthn.js runs the WebAuthn ceremony of a Gatehouse passkey page: the
// only script of the hosted pages. The page's form (id "webauthn") carries
// the ceremony's options in data-options (JSON, binary values base64url)
// and its kind in data-ceremony ("create" registers a passkey, "get" uses
// one). When the form is submitted, the script asks the browser for the
// passkey, puts the result (the PublicKeyCredential as JSON) in the form's
// hidden credential input and submits the form as usual; the server checks
// everything. Without this script, or without passkey support, the form
// posts no credential and the server's page says what to do.
(function () {
  "use strict";

  var form = document.getElementById("webauthn");
  if (!form) {
    return;
  }
  var status = document.getElementById("webauthn-status");
  var button = form.querySelector("button[type=submit]");

  function show(message) {
    status.textContent = message;
    status.hidden = false;
  }

  if (!window.PublicKeyCredential || !navigator.credentials) {
    show("This browser can't use passkeys. Use another way, or try again in a recent version of Chrome, Edge, Firefox or Safari.");
    return;
  }

  function decode(text) {
    var s = text.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var raw = atob(s);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      out[i] = raw.charCodeAt(i);
    }
    return out.buffer;
  }

  function encode(buffer) {
    if (!buffer) {
      return undefined;
    }
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) {
      raw += String.fromCharCode(bytes[i]);
    }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var out = { type: d.type, id: decode(d.id) };
      if (d.transports) {
        out.transports = d.transports;
      }
      return out;
    });
  }

  var create = form.dataset.ceremony === "create";
  var options = JSON.parse(form.dataset.options);
  options.challenge = decode(options.challenge);
  if (create) {
    options.user.id = decode(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
  } else {
    options.allowCredentials = descriptors(options.allowCredentials);
  }

  // credentialJSON is PublicKeyCredential.toJSON(), for browsers that
  // lack it.
  function credentialJSON(c) {
    var r = c.response;
    var out = {
      id: c.id,
      rawId: encode(c.rawId),
      type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: encode(r.clientDataJSON) }
    };
    if (create) {
      out.response.attestationObject = encode(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : undefined;
    } else {
      out.response.authenticatorData = encode(r.authenticatorData);
      out.response.signature = encode(r.signature);
      out.response.userHandle = encode(r.userHandle);
    }
    return out;
  }

  function failed(err) {
    button.disabled = false;
    switch (err && err.name) {
      case "NotAllowedError":
        show("The passkey request was cancelled or timed out. Select " + button.textContent + " to try again, or use another way.");
        break;
      case "InvalidStateError":
        show("This device already has a passkey for your account. Use that passkey, or choose another way.");
        break;
      case "SecurityError":
        show("This browser refused passkeys for this site's address. Contact the site's administrator.");
        break;
      default:
        show("Your browser couldn't use a passkey" + (err && err.name ? " (" + err.name + ")" : "") + ". Try again, or use another way.");
    }
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    button.disabled = true;
    status.hidden = true;
    var request = create ? navigator.credentials.create({ publicKey: options }) : navigator.credentials.get({ publicKey: options });
    request.then(function (c) {
      if (!c) {
        failed(null);
        return;
      }
      form.elements.credential.value = JSON.stringify(credentialJSON(c));
      form.submit();
    }, failed);
  });
  // The ceremony is ready: a submit now asks for the passkey (tests wait
  // for this before they press the button).
  form.dataset.ready = "true";
})();
