// Small shared pieces. Every value is rendered as text by htm/Preact: nothing here (or anywhere in the
// portal) uses innerHTML or dangerouslySetInnerHTML, so a tenant's strings can never become markup.
import { h } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);

export const SCOPES = {
  endpointsRead: "endpoints:read",
  endpointsWrite: "endpoints:write",
  eventsRead: "events:read",
  eventsWrite: "events:write",
};

export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const formatter = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function Time({ iso }) {
  if (!iso) return html`<span class="muted">never</span>`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return html`<span>${iso}</span>`;
  return html`<time datetime=${iso} title=${iso}>${formatter.format(date)}</time>`;
}

// An ISO-8601 UTC time from a datetime-local field (which the viewer fills in their own zone).
export function isoFromLocal(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

export function localFromIso(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.message || String(error)}</p>`;
}

export function Notice({ text }) {
  if (!text) return null;
  return html`<p class="notice" role="status">${text}</p>`;
}

export function Status({ value }) {
  return html`<span class=${"badge badge-" + String(value).replace(/[^a-z_]/g, "")}>${value}</span>`;
}

export function Loading() {
  return html`<p class="muted" role="status">Loading…</p>`;
}

// Runs `load` when `deps` change: {data, error, loading, reload}.
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const reload = useCallback(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

// A list read page by page: the first page when `deps` change, the next ones on `loadMore`.
// `fetchPage(cursor)` answers `{data, next_cursor, has_more}`.
export function usePages(fetchPage, deps) {
  const [pages, setPages] = useState([]);
  const first = useLoad(() => {
    setPages([]);
    return fetchPage(null);
  }, deps);
  const more = useAction();
  const items = [...(first.data ? first.data.data : []), ...pages.flatMap((page) => page.data)];
  const last = pages.length ? pages[pages.length - 1] : first.data;
  const loadMore = () => more.run(async () => setPages([...pages, await fetchPage(last.next_cursor)]));
  return { first, items, hasMore: Boolean(last && last.has_more), loadMore, more };
}

export function LoadMore({ list }) {
  return html`
    ${list.hasMore && html`<button type="button" onClick=${list.loadMore} disabled=${list.more.busy}>Load more</button>`}
    <${ErrorNote} error=${list.more.error} />
  `;
}

// A button that runs an async action, shows that it is busy, and reports its failure.
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = useCallback(async (action) => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (failure) {
      setError(failure);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

export function navigate(route) {
  location.hash = "#" + route;
}

export function AttemptTable({ attempts, showEvent, showEndpoint }) {
  if (!attempts.length) return html`<p class="empty">No attempts yet.</p>`;
  return html`
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            ${showEvent && html`<th scope="col">Event</th>`}
            ${showEndpoint && html`<th scope="col">Endpoint</th>`}
            <th scope="col">#</th>
            <th scope="col">Time</th>
            <th scope="col">Outcome</th>
            <th scope="col">Status code</th>
            <th scope="col">Latency</th>
            <th scope="col">Error</th>
            <th scope="col">Response excerpt</th>
          </tr>
        </thead>
        <tbody>
          ${attempts.map(
            (attempt) => html`
              <tr key=${attempt.event_id + attempt.endpoint_id + attempt.attempt} class="attempt-row">
                ${showEvent &&
                html`<td><a href=${"#/events/" + encodeURIComponent(attempt.event_id)}>${attempt.event_id}</a></td>`}
                ${showEndpoint &&
                html`<td>
                  <a href=${"#/endpoints/" + encodeURIComponent(attempt.endpoint_id)}>${attempt.endpoint_id}</a>
                </td>`}
                <td>${attempt.attempt}</td>
                <td><${Time} iso=${attempt.attempted_at} /></td>
                <td><${Status} value=${attempt.outcome} /></td>
                <td class="status-code">${attempt.status_code ?? "—"}</td>
                <td>${attempt.latency_ms} ms</td>
                <td>
                  ${attempt.error_kind
                    ? html`<strong>${attempt.error_kind}</strong> ${attempt.error_message || ""}`
                    : "—"}
                </td>
                <td><pre class="excerpt">${attempt.response_excerpt || ""}</pre></td>
              </tr>
            `,
          )}
        </tbody>
      </table>
    </div>
  `;
}
