// Talking to the server: every call of the UI goes through here, so every failure becomes an
// ApiError with a readable message (the server's {"error":{code,message,request_id}} body, or
// a sentence for a network failure or a non-JSON answer) that a view can show as it is.

export class ApiError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;         // HTTP status, 0 for a network failure
    this.code = code;             // the server's stable code: "sql_error", "not_found", ...
    this.requestId = extra.request_id || null;
    this.position = extra.position || null; // {line, column, offset} of an sql_error
    this.aborted = code === 'aborted';
  }
}

async function errorFrom(resp) {
  let body = null;
  try { body = await resp.json(); } catch { /* not JSON: said below */ }
  const e = body && body.error;
  if (e && typeof e.message === 'string')
    return new ApiError(resp.status, e.code || 'error', e.message, e);
  return new ApiError(resp.status, 'http_' + resp.status,
    `the server answered ${resp.status} ${resp.statusText || ''}`.trim());
}

function networkError(err) {
  if (err && err.name === 'AbortError')
    return new ApiError(0, 'aborted', 'cancelled');
  return new ApiError(0, 'network', 'cannot reach the Lakehouse server: is `lakehouse serve` running?');
}

// fetch with a JSON body (body: object) and a JSON answer. opts: method, body, headers,
// signal, accept. Resolves with the parsed document; rejects with an ApiError.
export async function api(path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (opts.accept) headers.Accept = opts.accept;
  let resp;
  try {
    resp = await fetch(path, { method: opts.method || (body ? 'POST' : 'GET'), headers, body,
                               signal: opts.signal });
  } catch (err) {
    throw networkError(err);
  }
  if (!resp.ok) throw await errorFrom(resp);
  if (resp.status === 204) return null;
  try {
    return await resp.json();
  } catch {
    throw new ApiError(resp.status, 'bad_reply', 'the server sent an answer that is not JSON');
  }
}

// Like api() but resolves with a Blob (for exports: Accept picks CSV or Parquet).
export async function apiBlob(path, opts = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: opts.accept || '*/*' };
  let resp;
  try {
    resp = await fetch(path, { method: 'POST', headers, body: JSON.stringify(opts.body),
                               signal: opts.signal });
  } catch (err) {
    throw networkError(err);
  }
  if (!resp.ok) throw await errorFrom(resp);
  return resp.blob();
}

// POST /query/sql with JSON results. sql, params (array) and limit as in docs/API.md.
export function sql(text, { params, limit, signal } = {}) {
  const body = { sql: text };
  if (params) body.params = params;
  if (limit) body.limit = limit;
  return api('/query/sql', { body, signal });
}

// A double-quoted SQL identifier (for names the catalog gave us; values are always bound).
export function ident(name) {
  return '"' + String(name).replaceAll('"', '""') + '"';
}

// Uploads a File with multipart/form-data through XHR (fetch cannot report upload progress).
// fields: extra form parts; headers: request headers; onProgress(loaded, total).
// Resolves {status, body}; rejects with an ApiError. Returns {promise, abort}.
export function upload(path, file, { fields = {}, headers = {}, onProgress } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.responseType = 'text';
    if (onProgress)
      xhr.upload.onprogress = (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : file.size);
    xhr.onerror = () => reject(networkError(null));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'upload cancelled'));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* below */ }
      if (xhr.status >= 200 && xhr.status < 300 && body) return resolve({ status: xhr.status, body });
      const e = body && body.error;
      if (e && e.message) return reject(new ApiError(xhr.status, e.code || 'error', e.message, e));
      reject(new ApiError(xhr.status, 'http_' + xhr.status, `the server answered ${xhr.status}`));
    };
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== '') form.append(k, v);
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

// POSTs body with "stream": true to an endpoint that answers text/event-stream (POST
// /ai/ask, POST /vectors/rag): onToken(text) for each {"token"} event as the model writes,
// and resolves with the final document (the one with "done": true). An error before the
// stream began, an {"error"} final event, or a connection cut before the final event all
// reject with an ApiError. Aborting signal stops the request (and, server-side, the model).
export async function apiStream(path, body, { signal, onToken } = {}) {
  let resp;
  try {
    resp = await fetch(path, { method: 'POST', signal, body: JSON.stringify({ ...body, stream: true }),
                               headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' } });
  } catch (err) {
    throw networkError(err);
  }
  if (!resp.ok) throw await errorFrom(resp);
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '', final = null;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value.replaceAll('\r\n', '\n');
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const data = buf.slice(0, end).split('\n').filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        buf = buf.slice(end + 2);
        if (!data) continue;
        let doc;
        try { doc = JSON.parse(data); } catch { continue; }
        if (doc.done) final = doc;
        else if (typeof doc.token === 'string' && onToken) onToken(doc.token);
      }
    }
  } catch (err) {
    throw networkError(err);
  }
  if (!final)
    throw new ApiError(resp.status, 'stream_cut', 'the answer stopped before it was complete: the connection closed');
  if (final.error)
    throw new ApiError(resp.status, final.error.code || 'error', final.error.message, final.error);
  return final;
}
