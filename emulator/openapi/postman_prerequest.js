// Signs each request as Ingo requires (Kong hmac-auth, hmac-sha512) with the variables username and secret.
// The body's {{variables}} are resolved here and the resolved body is set on the request, so the bytes signed
// are the bytes sent. The admin API (UNSIGNED_PREFIX) is sent unsigned. In a run, a signed request waits until it
// keeps to Ingo's PER_SECOND requests a second, and a request of ON_ITS_OWN (a reset) is skipped when the run
// sends anything else.
const CryptoJS = require('crypto-js');
const { Url } = require('postman-collection');

// What Postman percent-encodes in a URL it sends, besides controls and non-ASCII (an existing %XX stays).
const PATH_ENCODED = ' "#<>?`{}';
const QUERY_ENCODED = ' "#\'<>';

/** `text` as Postman writes it on the wire. */
function onTheWire(text, encoded) {
    let out = '';
    for (const c of text) {
        const code = c.codePointAt(0);
        if (code > 0x7e) {
            out += encodeURIComponent(c);
        } else if (code < 0x21 || encoded.includes(c)) {
            out += '%' + code.toString(16).toUpperCase().padStart(2, '0');
        } else {
            out += c;
        }
    }
    return out;
}

/** The request line's target: the path and query string of `url`, as sent. */
function requestTarget(url) {
    const query = url.getQueryString();
    return onTheWire(url.getPath(), PATH_ENCODED) + (query ? '?' + onTheWire(query, QUERY_ENCODED) : '');
}

/** The headers that sign `body` for `method target` at `date`; Authorization is built last. */
function ingoHeaders(method, target, body, date, username, secret) {
    const withBody = body !== '' || !['GET', 'HEAD'].includes(method);
    const names = withBody ? SIGNED_HEADERS : SIGNED_HEADERS.filter((name) => !name.startsWith('content-'));
    const bytes = CryptoJS.enc.Utf8.parse(body);
    const values = { 'x-date': date };
    const headers = { 'X-Date': date };
    if (withBody) {
        values['content-type'] = headers['Content-Type'] = 'application/json';
        values['content-sha512'] = headers['Content-sha512'] = CryptoJS.SHA512(bytes).toString(CryptoJS.enc.Base64);
        values['content-length'] = headers['Content-Length'] = String(bytes.sigBytes);
    }
    const signingString = names
        .map((name) => (name === 'request-line' ? `${method} ${target} HTTP/1.1` : `${name}: ${values[name]}`))
        .join('\n');
    const signature = CryptoJS.HmacSHA512(signingString, secret).toString(CryptoJS.enc.Base64);
    headers.Authorization = `hmac username="${username}", algorithm="hmac-sha512", ` +
        `headers="${names.join(' ')}", signature="${signature}"`;
    return headers;
}

/** Wait, if need be, until the request PER_SECOND answers back is over a second old: the emulator (like Ingo)
 * counts a request when it arrives, which is before its answer came back here. The times are the run's own
 * (pm.variables), kept by the collection's test script; a request sent by hand is never held. */
function keepToIngosPace() {
    const MARGIN_MS = 10;
    const answered = JSON.parse(pm.variables.get(ANSWERED_AT) || '[]');
    if (answered.length >= PER_SECOND) {
        const wait = answered[answered.length - PER_SECOND] + 1000 + MARGIN_MS - Date.now();
        if (wait > 0) {
            setTimeout(() => {}, wait);
        }
    }
}

if (ON_ITS_OWN.includes(pm.info.requestName)) {
    if (pm.variables.get(RUN_HAS_OTHERS)) {
        console.log(`skipped "${pm.info.requestName}": it changes what others use, so it is sent only on its own`);
        pm.execution.skipRequest();
    }
} else {
    pm.variables.set(RUN_HAS_OTHERS, true);
}

const url = new Url(pm.variables.replaceIn(pm.request.url.toString()));
const target = requestTarget(url);
if (!target.startsWith(UNSIGNED_PREFIX)) {
    keepToIngosPace();
    let body = '';
    if (pm.request.body && pm.request.body.mode === 'raw') {
        body = pm.variables.replaceIn(pm.request.body.raw || '');
        pm.request.body.update({ mode: 'raw', raw: body, options: pm.request.body.options });
    }
    const method = pm.request.method.toUpperCase();
    const headers = ingoHeaders(method, target, body, new Date().toUTCString(),
        pm.variables.get('username'), pm.variables.get('secret'));
    Object.entries(headers).forEach(([key, value]) => pm.request.headers.upsert({ key, value }));
}
