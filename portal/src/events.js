// Events: search by type, status and time; one event's deliveries and attempts; retry one delivery.
import { useState } from "preact/hooks";
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
  localFromIso,
  navigate,
  useAction,
  useLoad,
  usePages,
} from "./ui.js";

const STATUSES = ["pending", "retrying", "succeeded", "failed"];
const eventPath = (id) => "/events/" + encodeURIComponent(id);

export function EventSearch({ api, filters }) {
  const [form, setForm] = useState({
    type: filters.type || "",
    status: filters.status || "",
    since: localFromIso(filters.since),
    until: localFromIso(filters.until),
  });
  const search = { type: filters.type, status: filters.status, since: filters.since, until: filters.until };
  const list = usePages((cursor) => api.get("/events" + query({ ...search, limit: 50, cursor })), [
    JSON.stringify(search),
  ]);
  const first = list.first;
  const events = list.items;
  const field = (name) => (event) => setForm({ ...form, [name]: event.currentTarget.value });

  const submit = (event) => {
    event.preventDefault();
    const route = "/events" + query({
      type: form.type.trim(),
      status: form.status,
      since: isoFromLocal(form.since),
      until: isoFromLocal(form.until),
    });
    navigate(route);
  };
  const filtered = Object.values(search).some(Boolean);

  return html`
    <section aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <form class="filters" onSubmit=${submit} role="search">
        <div>
          <label for="search-type">Type</label>
          <input id="search-type" name="type" value=${form.type} onInput=${field("type")} placeholder="order.* or order.created" />
        </div>
        <div>
          <label for="search-status">Delivery status</label>
          <select id="search-status" name="status" value=${form.status} onChange=${field("status")}>
            <option value="">any</option>
            ${STATUSES.map((status) => html`<option key=${status} value=${status}>${status}</option>`)}
          </select>
        </div>
        <div>
          <label for="search-since">From</label>
          <input id="search-since" type="datetime-local" value=${form.since} onInput=${field("since")} />
        </div>
        <div>
          <label for="search-until">Until</label>
          <input id="search-until" type="datetime-local" value=${form.until} onInput=${field("until")} />
        </div>
        <div class="filter-actions"><button class="primary" type="submit">Search</button></div>
      </form>
      <${ErrorNote} error=${first.error} />
      ${first.loading && !first.data && html`<${Loading} />`}
      ${first.data && !events.length &&
      html`<p class="empty">${filtered ? "No events match this search." : "No events yet. Events you are sent appear here."}</p>`}
      ${events.length > 0 &&
      html`<div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Type</th>
              <th scope="col">Time</th>
              <th scope="col">Deliveries</th>
            </tr>
          </thead>
          <tbody>
            ${events.map(
              (event) => html`
                <tr key=${event.id} class="event-row">
                  <td><a href=${"#" + eventPath(event.id)}>${event.id}</a></td>
                  <td class="event-type">${event.type}</td>
                  <td><${Time} iso=${event.timestamp} /></td>
                  <td>
                    ${event.deliveries.length
                      ? event.deliveries.map((delivery) => html`<${Status} key=${delivery.endpoint_id} value=${delivery.status} /> `)
                      : html`<span class="muted">no endpoint matched</span>`}
                  </td>
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

export function EventDetail({ api, eventId, can }) {
  const event = useLoad(() => api.get(eventPath(eventId)), [eventId]);
  const attempts = useLoad(() => api.get(eventPath(eventId) + "/attempts" + query({ limit: 100 })), [eventId]);
  const action = useAction();
  const [retried, setRetried] = useState("");

  if (event.error) return html`<${ErrorNote} error=${event.error} /><p><a href="#/events">Back to events</a></p>`;
  if (!event.data) return html`<${Loading} />`;
  const retry = (endpointId) =>
    action.run(async () => {
      await api.post(eventPath(eventId) + "/retry", { endpoint_id: endpointId });
      setRetried("Queued a new attempt to " + endpointId + ".");
      event.reload();
      attempts.reload();
    });
  const { data } = event;

  return html`
    <section aria-labelledby="event-title">
      <p><a href="#/events">← Events</a></p>
      <h2 id="event-title">Event <code>${data.id}</code></h2>
      <dl class="facts">
        <dt>Type</dt><dd class="event-type">${data.type}</dd>
        <dt>Time</dt><dd><${Time} iso=${data.timestamp} /></dd>
      </dl>
      <details>
        <summary>Payload</summary>
        <pre class="payload">${JSON.stringify(data.data, null, 2)}</pre>
      </details>
      <h3>Deliveries</h3>
      <${ErrorNote} error=${action.error} />
      <${Notice} text=${retried} />
      ${!data.deliveries.length && html`<p class="empty">No endpoint matched this event.</p>`}
      ${data.deliveries.length > 0 &&
      html`<div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last attempt</th>
              <th scope="col">Last status code</th>
              <th scope="col">Last error</th>
              <th scope="col">Next attempt</th>
              ${can(SCOPES.eventsWrite) && html`<th scope="col"><span class="visually-hidden">Actions</span></th>`}
            </tr>
          </thead>
          <tbody>
            ${data.deliveries.map(
              (delivery) => html`
                <tr key=${delivery.endpoint_id} class="delivery-row">
                  <td><a href=${"#/endpoints/" + encodeURIComponent(delivery.endpoint_id)}>${delivery.endpoint_id}</a></td>
                  <td><${Status} value=${delivery.status} /></td>
                  <td>${delivery.attempts}</td>
                  <td><${Time} iso=${delivery.last_attempt_at} /></td>
                  <td>${delivery.last_status_code ?? "—"}</td>
                  <td>${delivery.last_error_kind ? delivery.last_error_kind + ": " + (delivery.last_error || "") : "—"}</td>
                  <td>${delivery.next_attempt_at ? html`<${Time} iso=${delivery.next_attempt_at} />` : "—"}</td>
                  ${can(SCOPES.eventsWrite) &&
                  html`<td>
                    <button type="button" onClick=${() => retry(delivery.endpoint_id)} disabled=${action.busy}
                      aria-label=${"Retry delivery to " + delivery.endpoint_id}>Retry</button>
                  </td>`}
                </tr>
              `,
            )}
          </tbody>
        </table>
      </div>`}
      <h3>Attempts</h3>
      <${ErrorNote} error=${attempts.error} />
      ${attempts.data && html`<${AttemptTable} attempts=${attempts.data.data} showEndpoint=${true} />`}
    </section>
  `;
}
