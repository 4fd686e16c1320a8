/*
 * Qyzmet's client of the local signing agent: NCALayer, or `qyzmet layer`, which speaks the same protocol.
 * Dependency-free ES2017; it defines window.QyzmetLayer:
 *
 *   await QyzmetLayer.connect();                 // optional: the calls below connect when needed
 *   const info = await QyzmetLayer.getKeyInfo(); // {subjectDn, issuerDn, serialNumber, certNotBefore, pem, ...}
 *   const cms = await QyzmetLayer.signCms(base64, {keyType: 'SIGNATURE', attach: true}); // base64 DER CMS
 *   const signed = await QyzmetLayer.signXml(xml, {keyType: 'AUTHENTICATION'}); // the document, signed
 *   const made = await QyzmetLayer.generateRequest({algorithm: 'RSA2048', purpose: 'sign'}); // {request, keyId}
 *   const saved = await QyzmetLayer.installCertificate(base64Der); // {file, purpose, serialNumber, ...}
 *
 * The agent's address is wss://127.0.0.1:13579 unless the page's URL has ?layer=ws://127.0.0.1:13579 or
 * <html data-layer-url="…"> says otherwise (a page served over http cannot open wss:// to a self-signed
 * agent in every browser; `qyzmet layer --plain` serves ws://). Only loopback addresses are accepted there:
 * a link must not be able to send the person's documents to another machine.
 *
 * Requests go one at a time: the protocol's answers carry no request id, they come in order.
 * A failure rejects with a QyzmetLayer.LayerError whose message is the agent's; `canceled` is true when the
 * person declined (NCALayer's "action.canceled").
 *
 * A signature obtained here proves nothing by itself; the server verifies it (chain, key usage,
 * revocation, IIN/BIN) whatever agent produced it.
 */
(function (window) {
  'use strict';

  var DEFAULT_URL = 'wss://127.0.0.1:13579';
  var COMMON_UTILS = 'kz.gov.pki.knca.commonUtils';
  var KEYS = 'kz.gov.pki.qyzmet.keys';
  var STORAGE = 'PKCS12';
  var CANCELED = 'action.canceled';
  var LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];
  var CONNECT_TIMEOUT_MS = 10000;

  class LayerError extends Error {
    constructor(message, code) {
      super(message);
      this.name = 'LayerError';
      this.code = code || null;
      this.canceled = message === CANCELED;
    }
  }

  function isLoopbackAgent(url) {
    var parsed;
    try {
      parsed = new URL(url);
    } catch (e) {
      return false;
    }
    return (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') &&
      LOOPBACK_HOSTS.indexOf(parsed.hostname) >= 0;
  }

  /* The query parameter first (a person testing can override the page), then the page's attribute. */
  function configuredUrl() {
    var candidates = [];
    if (window.location && window.location.search) {
      candidates.push(new URLSearchParams(window.location.search).get('layer'));
    }
    if (window.document && window.document.documentElement) {
      candidates.push(window.document.documentElement.getAttribute('data-layer-url'));
    }
    for (var i = 0; i < candidates.length; i += 1) {
      var candidate = candidates[i];
      if (!candidate) {
        continue;
      }
      if (isLoopbackAgent(candidate)) {
        return candidate;
      }
      if (window.console) {
        window.console.warn('QyzmetLayer: ignoring agent address ' + candidate + ' (not ws(s):// on loopback)');
      }
    }
    return DEFAULT_URL;
  }

  var socket = null;
  var socketUrl = null;
  var agentVersion = null;
  var opening = null;
  /* Callbacks of the request in flight (at most one, see `call`). */
  var pending = [];
  /* The tail of the request queue. */
  var queue = Promise.resolve();

  function failAll(error) {
    pending.splice(0).forEach(function (waiter) {
      waiter.reject(error);
    });
  }

  function onAnswer(text) {
    var waiter = pending.shift();
    if (!waiter) {
      return;
    }
    var answer;
    try {
      answer = JSON.parse(text);
    } catch (e) {
      waiter.reject(new LayerError('the signing agent sent a malformed answer'));
      return;
    }
    if (answer && answer.code === '200') {
      waiter.resolve(answer.responseObject);
    } else {
      var message = (answer && answer.message) || ('the signing agent answered code ' + (answer && answer.code));
      waiter.reject(new LayerError(message, answer && answer.code));
    }
  }

  /* Opens the connection and waits for the greeting; resolves with the agent's version. */
  function connect(url) {
    var target = url || configuredUrl();
    if (socket && socket.readyState === WebSocket.OPEN && socketUrl === target) {
      return Promise.resolve(agentVersion);
    }
    if (opening) {
      return opening;
    }
    if (socket) {
      var previous = socket;
      socket = null;
      previous.close();
      failAll(new LayerError('the connection to the signing agent was replaced'));
    }
    opening = new Promise(function (resolve, reject) {
      var ws;
      try {
        ws = new WebSocket(target);
      } catch (e) {
        reject(new LayerError('cannot open ' + target + ': ' + e.message));
        return;
      }
      var greeted = false;
      /* A connection the browser blocks (a security policy, an untrusted certificate) may end with
         no close event at all: give up after a while instead of waiting for ever. */
      var giveUp = window.setTimeout(function () {
        if (!greeted) {
          ws.close();
          reject(new LayerError('no answer from the signing agent at ' + target +
            ': start NCALayer or `qyzmet layer` (and accept its certificate once in the browser)'));
        }
      }, CONNECT_TIMEOUT_MS);
      ws.onmessage = function (event) {
        window.clearTimeout(giveUp);
        if (greeted) {
          onAnswer(event.data);
          return;
        }
        greeted = true;
        var greeting = null;
        try {
          greeting = JSON.parse(event.data);
        } catch (e) {
          greeting = null;
        }
        if (greeting && greeting.result && greeting.result.version) {
          socket = ws;
          socketUrl = target;
          agentVersion = greeting.result.version;
          resolve(agentVersion);
        } else {
          ws.close();
          reject(new LayerError('the program at ' + target + ' did not greet as a signing agent does'));
        }
      };
      /* onclose follows every error and says what matters. */
      ws.onerror = function () {};
      ws.onclose = function () {
        if (!greeted) {
          reject(new LayerError('cannot reach the signing agent at ' + target +
            ': start NCALayer or `qyzmet layer` (and accept its certificate once in the browser)'));
        }
        if (socket === ws) {
          socket = null;
          failAll(new LayerError('the signing agent closed the connection'));
        }
      };
    });
    var clear = function () {
      opening = null;
    };
    opening.then(clear, clear);
    return opening;
  }

  /* One request to `module` (commonUtils unless named); queued behind the previous one. The agent's
     basics-style answers mirror their result as code/responseObject, so one reader serves both. */
  function call(method, args, module) {
    var run = function () {
      return connect().then(function () {
        return new Promise(function (resolve, reject) {
          pending.push({ resolve: resolve, reject: reject });
          socket.send(JSON.stringify({ module: module || COMMON_UTILS, method: method, args: args }));
        });
      });
    };
    var result = queue.then(run, run);
    queue = result.catch(function () {});
    return result;
  }

  function toBase64(data) {
    if (typeof data === 'string') {
      return data;
    }
    var bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    var binary = '';
    for (var i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return window.btoa(binary);
  }

  window.QyzmetLayer = {
    LayerError: LayerError,
    connect: connect,

    /* The chosen key's certificate: subjectDn, issuerDn, serialNumber, certNotBefore/After (ms), pem, alias... */
    getKeyInfo: function () {
      return call('getKeyInfo', [STORAGE]);
    },

    /*
     * Signs base64 data (or an ArrayBuffer / typed array) into CMS; resolves with the base64 DER.
     * keyType: 'SIGNATURE' (default) or 'AUTHENTICATION'; attach: the data inside the CMS (default true).
     */
    signCms: function (data, options) {
      var keyType = (options && options.keyType) || 'SIGNATURE';
      var attach = !(options && options.attach === false);
      return call('createCAdESFromBase64', [STORAGE, keyType, toBase64(data), attach]);
    },

    /*
     * Signs an XML document (a string) as egov.kz's pages have NCALayer sign: the whole document, the
     * signature enveloped as the root's last child; resolves with the signed document.
     * keyType: 'SIGNATURE' (default) or 'AUTHENTICATION'.
     */
    signXml: function (xml, options) {
      var keyType = (options && options.keyType) || 'SIGNATURE';
      return call('signXml', [STORAGE, keyType, xml, '', '']);
    },

    /*
     * `qyzmet layer` only (module kz.gov.pki.qyzmet.keys; NCALayer has no such method): a new key pair made
     * and kept on this computer, and a PKCS#10 request signed with it. options: {algorithm: 'RSA2048' |
     * 'P256' | 'GOST2004' | 'GOST2015', purpose: 'sign' | 'auth' | 'tls', subject: {commonName, iin, bin,
     * dnsNames}, locale}. Resolves with {request: base64 DER, keyId, algorithm, purpose}.
     */
    generateRequest: function (options) {
      return call('generateRequest', options || {}, KEYS);
    },

    /*
     * `qyzmet layer` only: the certificate issued for a request generateRequest made (base64 DER or PEM)
     * saved with its key as a new key store. options: {chain: [base64 DER], locale}. Resolves with
     * {file, purpose, keyType, serialNumber, subjectDn}.
     */
    installCertificate: function (certificate, options) {
      var args = { certificate: certificate };
      if (options && options.chain) { args.chain = options.chain; }
      if (options && options.locale) { args.locale = options.locale; }
      return call('installCertificate', args, KEYS);
    },

    close: function () {
      if (socket) {
        var open = socket;
        socket = null;
        open.close();
        failAll(new LayerError('the connection to the signing agent was closed'));
      }
    }
  };
})(window);
