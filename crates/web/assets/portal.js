/*
 * The portal's and the back office's behaviour on top of server-rendered pages (every page works
 * without it except signing, which needs the local agent):
 *  - form[data-eds-login]: sign a one-time challenge with the AUTHENTICATION key and submit (the
 *    challenge's login document as XML, as egov.kz's sign-in has NCALayer sign it);
 *  - form[data-eds-optional] [data-eds-attach]: the same for registration (a legal entity's employee);
 *  - form[data-eds-sign]: sign the form's data-document (base64) with the SIGNATURE key, attached, and submit;
 *  - textarea[data-max]: a character counter, and seed 000's dialog when the text is over the limit;
 *  - button[data-print]: prints the page (a receipt at a PSC counter);
 *  - [data-keygen-button]: has the signing agent make a key pair and a PKCS#10 request for the field
 *    beside it (kz.gov.pki.qyzmet.keys generateRequest); the field stays a textarea one may paste into;
 *  - [data-install-certificate]: has the agent install an issued certificate beside its key
 *    (installCertificate), saying the outcome in the page's language.
 */
(function (window, document) {
  'use strict';

  function showError(form, error) {
    var box = form.querySelector('[data-eds-error]');
    if (box) {
      box.textContent = (error && error.message) ? error.message : String(error);
    }
  }

  /* A fresh challenge: {nonce, xml}, the login document to sign. */
  function challenge() {
    return fetch('/login/challenge', { method: 'POST', credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) { throw new Error('challenge: HTTP ' + response.status); }
        return response.json();
      });
  }

  /* The server also takes a CMS over the nonce (field cms) from clients that send one; the pages
     send the signed login document, which the server compares with the one it issued. */
  function signChallenge(form) {
    return challenge().then(function (issued) {
      return window.QyzmetLayer.signXml(issued.xml, { keyType: 'AUTHENTICATION' })
        .then(function (signed) {
          form.elements.xml.value = signed;
          form.elements.nonce.value = issued.nonce;
        });
    });
  }

  function wire(selector, button, action) {
    document.querySelectorAll(selector).forEach(function (form) {
      var trigger = form.querySelector(button);
      if (!trigger) { return; }
      trigger.addEventListener('click', function () {
        trigger.disabled = true;
        showError(form, '');
        action(form).catch(function (error) {
          showError(form, error);
        }).then(function () { trigger.disabled = false; });
      });
    });
  }

  wire('form[data-eds-login]', '[data-eds-button]', function (form) {
    return signChallenge(form).then(function () { form.submit(); });
  });

  wire('form[data-eds-optional]', '[data-eds-attach]', function (form) {
    return signChallenge(form).then(function () {
      var mark = form.querySelector('[data-eds-attached]');
      if (mark) { mark.textContent = ' ✓'; }
    });
  });

  /* The document to sign: fixed in the page, or (an answer typed in the same step) built by the
     server from the form so that the signed bytes are exactly what it will check. */
  function documentOf(form) {
    var url = form.getAttribute('data-document-url');
    if (!url) { return Promise.resolve(form.getAttribute('data-document')); }
    if (!form.reportValidity()) { return Promise.reject(new Error('')); }
    /* The whole form: the answer's text and the output document's fields it is composed with. */
    var body = new URLSearchParams(new FormData(form));
    return fetch(url, { method: 'POST', credentials: 'same-origin', body: body })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (reply) { return reply.document; });
  }

  wire('form[data-eds-sign]', '[data-eds-button]', function (form) {
    return documentOf(form).then(function (signed) {
      return window.QyzmetLayer.signCms(signed, { keyType: 'SIGNATURE', attach: true });
    }).then(function (cms) {
      form.elements.cms.value = cms;
      form.submit();
    });
  });

  document.querySelectorAll('textarea[data-max]').forEach(function (area) {
    var max = parseInt(area.getAttribute('data-max'), 10);
    var counter = document.querySelector('[data-count-for="' + area.id + '"]');
    var dialog = document.getElementById('too-long');
    var warned = false;
    area.addEventListener('input', function () {
      var length = Array.from(area.value).length;
      if (counter) { counter.textContent = String(length); }
      if (length > max && !warned && dialog && dialog.showModal) {
        warned = true;
        dialog.showModal();
      }
      if (length <= max) { warned = false; }
    });
  });
  /* The outcome of an agent call in words: the page's sentence, and the agent's own message after a
     failure (it names what went wrong on the person's computer). */
  function say(status, text, detail) {
    if (!status) { return; }
    status.textContent = detail ? text + ' (' + detail + ')' : text;
  }

  function agentFailure(box, status, error, failed, canceled) {
    if (error && error.canceled) { say(status, box.getAttribute(canceled)); return; }
    say(status, box.getAttribute(failed), error && error.message ? error.message : String(error));
  }

  document.querySelectorAll('[data-keygen-button]').forEach(function (button) {
    var box = button.closest('[data-keygen-for]');
    if (!box || !window.QyzmetLayer) { return; }
    var field = document.getElementById(box.getAttribute('data-keygen-for'));
    var status = box.querySelector('[data-keygen-status]');
    button.addEventListener('click', function () {
      var subject = { iin: box.getAttribute('data-keygen-iin') };
      if (box.getAttribute('data-keygen-bin')) { subject.bin = box.getAttribute('data-keygen-bin'); }
      var hosts = box.querySelector('[data-keygen-hosts]');
      if (hosts) {
        subject.dnsNames = hosts.value.split(/[\s,;]+/).filter(function (name) { return name; });
      }
      button.disabled = true;
      say(status, box.getAttribute('data-msg-working'));
      window.QyzmetLayer.generateRequest({
        algorithm: box.getAttribute('data-keygen-algorithm'),
        purpose: box.getAttribute('data-keygen-purpose'),
        subject: subject,
        locale: box.getAttribute('data-keygen-locale')
      }).then(function (made) {
        field.value = made.request;
        field.dispatchEvent(new Event('input'));
        say(status, box.getAttribute('data-msg-done'));
      }, function (error) {
        agentFailure(box, status, error, 'data-msg-failed', 'data-msg-canceled');
      }).then(function () { button.disabled = false; });
    });
  });

  document.querySelectorAll('[data-install-certificate]').forEach(function (button) {
    var box = button.closest('[data-msg-installed]');
    if (!box || !window.QyzmetLayer) { return; }
    var status = button.parentNode.querySelector('[data-install-status]');
    button.addEventListener('click', function () {
      button.disabled = true;
      say(status, box.getAttribute('data-msg-working'));
      window.QyzmetLayer.installCertificate(button.getAttribute('data-install-certificate'), {
        locale: box.getAttribute('data-locale')
      }).then(function (saved) {
        say(status, box.getAttribute('data-msg-installed') + ' ' + saved.file);
      }, function (error) {
        agentFailure(box, status, error, 'data-msg-failed', 'data-msg-canceled');
        button.disabled = false;
      });
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll('button[data-print]'), function (button) {
    button.addEventListener('click', function () { window.print(); });
  });
}(window, document));
