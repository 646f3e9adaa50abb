// Endpoints: list, add, edit, enable/disable, delete, the secret, test sends, recover, recent attempts.
import { useEffect, useState } from "preact/hooks";
import { query } from "./api.js";
import {
  AttemptTable,
  ErrorNote,
  LoadMore,
  Loading,
  Notice,
  SCOPES,
  Status,
  Time,
  html,
  isoFromLocal,
  navigate,
  useAction,
  useLoad,
  usePages,
} from "./ui.js";

const TEST_WATCH_MS = 60_000;
const TEST_POLL_MS = 1_000;

const endpointPath = (id) => "/endpoints/" + encodeURIComponent(id);

export function EndpointList({ api, can }) {
  const list = usePages((cursor) => api.get("/endpoints" + query({ limit: 50, cursor })), []);
  const { data, error, loading } = list.first;
  const endpoints = list.items;

  return html`
    <section aria-labelledby="endpoints-title">
      <div class="heading-row">
        <h2 id="endpoints-title">Endpoints</h2>
        ${can(SCOPES.endpointsWrite) && html`<a class="button primary" href="#/endpoints/new">Add endpoint</a>`}
      </div>
      <${ErrorNote} error=${error} />
      ${loading && !data && html`<${Loading} />`}
      ${data && !endpoints.length &&
      html`<p class="empty">
        No endpoints yet.
        ${can(SCOPES.endpointsWrite) ? " Add one to start receiving webhooks." : ""}
      </p>`}
      ${endpoints.length > 0 &&
      html`<div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Description</th>
              <th scope="col">Event types</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            ${endpoints.map(
              (endpoint) => html`
                <tr key=${endpoint.id} class="endpoint-row">
                  <td><a href=${"#" + endpointPath(endpoint.id)}>${endpoint.url}</a></td>
                  <td class="description">${endpoint.description}</td>
                  <td>${endpoint.event_types ? endpoint.event_types.join(", ") : "all"}</td>
                  <td><${Status} value=${endpoint.enabled ? "enabled" : "disabled"} /></td>
                  <td><${Time} iso=${endpoint.created_at} /></td>
                </tr>
              `,
            )}
          </tbody>
        </table>
      </div>`}
      <${LoadMore} list=${list} />
    </section>
  `;
}

function parseHeaders(text) {
  const headers = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const colon = line.indexOf(":");
    if (colon < 1) throw new Error("Headers: write one 'Name: value' per line (\"" + line.trim() + "\" has no name).");
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function parseFilter(text) {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("Filter: this is not valid JSON.");
  }
}

export function EndpointForm({ api, endpointId, catalog }) {
  const editing = Boolean(endpointId);
  const current = useLoad(() => (editing ? api.get(endpointPath(endpointId)) : Promise.resolve(null)), [endpointId]);
  const [form, setForm] = useState(null);
  const save = useAction();

  useEffect(() => {
    if (editing && !current.data) return;
    const endpoint = current.data || {};
    setForm({
      url: endpoint.url || "",
      description: endpoint.description || "",
      eventTypes: endpoint.event_types ? endpoint.event_types.join(", ") : "",
      filter: endpoint.filter ? JSON.stringify(endpoint.filter, null, 2) : "",
      headers: "",
      rateLimit: endpoint.rate_limit ? String(endpoint.rate_limit) : "",
    });
  }, [current.data]);

  if (current.error) return html`<${ErrorNote} error=${current.error} />`;
  if (!form) return html`<${Loading} />`;
  const field = (name) => (event) => setForm({ ...form, [name]: event.currentTarget.value });
  const headerNames = current.data ? Object.keys(current.data.headers || {}) : [];

  const submit = (event) => {
    event.preventDefault();
    save.run(async () => {
      const body = {
        url: form.url.trim(),
        description: form.description,
        event_types: form.eventTypes.trim()
          ? form.eventTypes.split(",").map((type) => type.trim()).filter(Boolean)
          : null,
        filter: parseFilter(form.filter),
        rate_limit: form.rateLimit.trim() ? Number(form.rateLimit) : null,
      };
      if (form.headers.trim() || !editing) body.headers = parseHeaders(form.headers);
      if (!editing) for (const name of Object.keys(body)) if (body[name] === null) delete body[name];
      const saved = editing
        ? await api.patch(endpointPath(endpointId), body)
        : await api.post("/endpoints", body);
      navigate(endpointPath(saved.id));
    });
  };

  return html`
    <section aria-labelledby="form-title">
      <h2 id="form-title">${editing ? "Edit endpoint" : "Add endpoint"}</h2>
      <form class="stack" onSubmit=${submit}>
        <label for="ep-url">URL</label>
        <input id="ep-url" name="url" type="url" required value=${form.url} onInput=${field("url")}
          placeholder="https://example.com/webhooks" />
        <label for="ep-description">Description</label>
        <input id="ep-description" name="description" value=${form.description} onInput=${field("description")} />
        <label for="ep-types">Event types <span class="muted">(comma-separated; empty: all; "order.*" for a prefix)</span></label>
        <input id="ep-types" name="event_types" list="event-type-catalog" value=${form.eventTypes}
          onInput=${field("eventTypes")} />
        <datalist id="event-type-catalog">
          ${catalog.map((type) => html`<option key=${type} value=${type}></option>`)}
        </datalist>
        <label for="ep-filter">Filter <span class="muted">(JSON, optional)</span></label>
        <textarea id="ep-filter" name="filter" rows="3" value=${form.filter} onInput=${field("filter")}
          placeholder='{"data.amount": {"$gte": 100}}'></textarea>
        <label for="ep-headers">Headers <span class="muted">(one "Name: value" per line; values are write-only)</span></label>
        <textarea id="ep-headers" name="headers" rows="3" value=${form.headers} onInput=${field("headers")}></textarea>
        ${editing && headerNames.length > 0 &&
        html`<p class="muted">Leave empty to keep the current headers: ${headerNames.join(", ")}.</p>`}
        <label for="ep-rate">Rate limit <span class="muted">(deliveries per second; empty: none)</span></label>
        <input id="ep-rate" name="rate_limit" type="number" min="1" value=${form.rateLimit} onInput=${field("rateLimit")} />
        <${ErrorNote} error=${save.error} />
        <div class="actions">
          <button class="primary" type="submit" disabled=${save.busy}>${editing ? "Save" : "Add endpoint"}</button>
          <a class="button" href=${editing ? "#" + endpointPath(endpointId) : "#/endpoints"}>Cancel</a>
        </div>
      </form>
    </section>
  `;
}

function SecretPanel({ api, endpointId, can }) {
  const [secret, setSecret] = useState(null);
  const action = useAction();
  const reveal = () => action.run(async () => setSecret(await api.get(endpointPath(endpointId) + "/secret")));
  const rotate = () => action.run(async () => setSecret(await api.post(endpointPath(endpointId) + "/secret/rotate")));
  const value = secret && (secret.secret || secret.public_key);
  return html`
    <section aria-labelledby="secret-title" class="panel">
      <h3 id="secret-title">Signing secret</h3>
      ${value
        ? html`<p><code class="secret">${value}</code></p>`
        : html`<p class="muted">Hidden. Verify deliveries with it (Standard Webhooks).</p>`}
      ${secret && secret.previous_secret_expires_at &&
      html`<p class="notice" role="status">
        Rotated. The previous secret keeps signing until <${Time} iso=${secret.previous_secret_expires_at} />.
      </p>`}
      <div class="actions">
        ${!value && html`<button type="button" onClick=${reveal} disabled=${action.busy}>Reveal secret</button>`}
        ${can(SCOPES.endpointsWrite) &&
        html`<button type="button" onClick=${rotate} disabled=${action.busy}>Rotate secret</button>`}
      </div>
      <${ErrorNote} error=${action.error} />
    </section>
  `;
}

function TestPanel({ api, endpointId, can }) {
  const [sent, setSent] = useState(null);
  const [attempts, setAttempts] = useState([]);
  const action = useAction();

  useEffect(() => {
    if (!sent || !can(SCOPES.eventsRead)) return undefined;
    const until = Date.now() + TEST_WATCH_MS;
    let timer = null;
    const poll = async () => {
      try {
        const page = await api.get("/events/" + encodeURIComponent(sent.id) + "/attempts");
        setAttempts(page.data);
        if (page.data.some((attempt) => attempt.outcome === "succeeded") || Date.now() > until) return;
      } catch (failure) {
        action.setError(failure);
        return;
      }
      timer = setTimeout(poll, TEST_POLL_MS);
    };
    poll();
    return () => clearTimeout(timer);
  }, [sent]);

  const send = () =>
    action.run(async () => {
      setAttempts([]);
      setSent(await api.post(endpointPath(endpointId) + "/test"));
    });

  return html`
    <section aria-labelledby="test-title" class="panel">
      <h3 id="test-title">Send a test event</h3>
      <p class="muted">A "webhook.test" event, delivered to this endpoint only, signed and retried like any other.</p>
      <button type="button" onClick=${send} disabled=${action.busy}>Send test event</button>
      <${ErrorNote} error=${action.error} />
      ${sent &&
      html`<p role="status">
        Sent <a href=${"#/events/" + encodeURIComponent(sent.id)}>${sent.id}</a>.
        ${can(SCOPES.eventsRead) && !attempts.length ? " Waiting for its first attempt…" : ""}
      </p>`}
      ${attempts.length > 0 && html`<${AttemptTable} attempts=${attempts} />`}
    </section>
  `;
}

function RecoverPanel({ api, endpointId }) {
  const [since, setSince] = useState("");
  const [done, setDone] = useState(null);
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      const answer = await api.post(endpointPath(endpointId) + "/recover", { since: isoFromLocal(since) });
      setDone(answer);
    });
  };
  return html`
    <section aria-labelledby="recover-title" class="panel">
      <h3 id="recover-title">Recover failed deliveries</h3>
      <form class="inline" onSubmit=${submit}>
        <label for="recover-since">Resend everything that failed since</label>
        <input id="recover-since" type="datetime-local" required value=${since}
          onInput=${(event) => setSince(event.currentTarget.value)} />
        <button type="submit" disabled=${action.busy}>Recover</button>
      </form>
      <${ErrorNote} error=${action.error} />
      ${done && html`<${Notice} text=${"Queued: failed deliveries since " + new Date(done.since).toLocaleString() + " are being resent."} />`}
    </section>
  `;
}

export function EndpointDetail({ api, endpointId, can }) {
  const { data: endpoint, error, reload } = useLoad(() => api.get(endpointPath(endpointId)), [endpointId]);
  const attempts = useLoad(
    () =>
      can(SCOPES.eventsRead)
        ? api.get(endpointPath(endpointId) + "/attempts" + query({ limit: 20 }))
        : Promise.resolve({ data: [] }),
    [endpointId],
  );
  const action = useAction();
  const [confirming, setConfirming] = useState(false);

  if (error) return html`<${ErrorNote} error=${error} /><p><a href="#/endpoints">Back to endpoints</a></p>`;
  if (!endpoint) return html`<${Loading} />`;
  const writable = can(SCOPES.endpointsWrite);
  const toggle = () =>
    action.run(async () => {
      await api.patch(endpointPath(endpointId), { enabled: !endpoint.enabled });
      reload();
    });
  const remove = () =>
    action.run(async () => {
      await api.del(endpointPath(endpointId));
      navigate("/endpoints");
    });
  const headerNames = Object.keys(endpoint.headers || {});

  return html`
    <section aria-labelledby="endpoint-title">
      <p><a href="#/endpoints">← Endpoints</a></p>
      <div class="heading-row">
        <h2 id="endpoint-title" class="url">${endpoint.url}</h2>
        <${Status} value=${endpoint.enabled ? "enabled" : "disabled"} />
      </div>
      <dl class="facts">
        <dt>ID</dt><dd><code>${endpoint.id}</code></dd>
        <dt>Description</dt><dd class="description">${endpoint.description || "—"}</dd>
        <dt>Event types</dt><dd>${endpoint.event_types ? endpoint.event_types.join(", ") : "all"}</dd>
        <dt>Filter</dt><dd>${endpoint.filter ? html`<pre>${JSON.stringify(endpoint.filter, null, 2)}</pre>` : "none"}</dd>
        <dt>Headers</dt>
        <dd class="header-names">
          ${headerNames.length ? headerNames.map((name) => html`<code key=${name}>${name}</code> `) : "none"}
        </dd>
        <dt>Rate limit</dt><dd>${endpoint.rate_limit ? endpoint.rate_limit + " per second" : "none"}</dd>
        ${endpoint.disabled_reason && html`<dt>Disabled because</dt><dd>${endpoint.disabled_reason}</dd>`}
        <dt>Created</dt><dd><${Time} iso=${endpoint.created_at} /></dd>
        <dt>Updated</dt><dd><${Time} iso=${endpoint.updated_at} /></dd>
      </dl>
      ${writable &&
      html`<div class="actions">
        <a class="button" href=${"#" + endpointPath(endpointId) + "/edit"}>Edit</a>
        <button type="button" onClick=${toggle} disabled=${action.busy}>${endpoint.enabled ? "Disable" : "Enable"}</button>
        ${confirming
          ? html`<button type="button" class="danger" onClick=${remove} disabled=${action.busy}>Yes, delete it</button>
              <button type="button" onClick=${() => setConfirming(false)}>Keep it</button>`
          : html`<button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete</button>`}
      </div>`}
      <${ErrorNote} error=${action.error} />
      <${SecretPanel} api=${api} endpointId=${endpointId} can=${can} />
      ${writable && html`<${TestPanel} api=${api} endpointId=${endpointId} can=${can} />`}
      ${writable && html`<${RecoverPanel} api=${api} endpointId=${endpointId} />`}
      ${can(SCOPES.eventsRead) &&
      html`<section aria-labelledby="attempts-title" class="panel">
        <h3 id="attempts-title">Recent attempts</h3>
        <${ErrorNote} error=${attempts.error} />
        ${attempts.data && html`<${AttemptTable} attempts=${attempts.data.data} showEvent=${true} />`}
      </section>`}
    </section>
  `;
}
