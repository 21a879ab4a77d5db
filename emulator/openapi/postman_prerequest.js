// Signs each request as Ingo requires (Kong hmac-auth, hmac-sha512) with the variables username and secret.
// The body's {{variables}} are resolved here and the resolved body is set on the request, so the bytes signed
// are the bytes sent. The admin API (UNSIGNED_PREFIX) is sent unsigned.
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

const url = new Url(pm.variables.replaceIn(pm.request.url.toString()));
const target = requestTarget(url);
if (!target.startsWith(UNSIGNED_PREFIX)) {
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
