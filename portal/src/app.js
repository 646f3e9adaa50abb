// The tenant portal: a shell with a fragment router (#/endpoints, #/events/evt_...), signed in by the
// session in the URL fragment. The API enforces the session's scopes; the page hides what they forbid.
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { createClient, readSession } from "./api.js";
import { EndpointDetail, EndpointForm, EndpointList } from "./endpoints.js";
import { EventDetail, EventSearch } from "./events.js";
import { SCOPES, Time, html, viewerZone } from "./ui.js";

function currentRoute() {
  const [path, search] = location.hash.replace(/^#/, "").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search || "") };
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

function SignedOut({ title, expired, message }) {
  return html`
    <main class="signed-out" id="main">
      <h1>${title}</h1>
      <h2>${expired ? "This portal link has expired" : "This page needs a portal link"}</h2>
      <p role="alert">
        ${expired
          ? "For your security, portal links work for a limited time. Go back to the application that sent you here and open the portal again to get a fresh link."
          : "Open the portal from the application that manages your webhooks: it gives you a link that signs you in."}
      </p>
      ${message && html`<p class="muted">${message}</p>`}
    </main>
  `;
}

function Forbidden() {
  return html`<p class="empty" role="alert">This portal link does not give access to this page.</p>`;
}

function useCatalog(api) {
  const [types, setTypes] = useState([]);
  useEffect(() => {
    // The event-type catalog, where this deployment has one; the form takes free text either way.
    fetch(new URL("event-types?limit=250", location.href), {
      headers: { Authorization: "Bearer " + api.token },
      credentials: "omit",
      referrerPolicy: "no-referrer",
    })
      .then((response) => (response.ok ? response.json() : { data: [] }))
      .then((page) => setTypes((page.data || []).map((type) => type.name).filter((name) => typeof name === "string")))
      .catch(() => setTypes([]));
  }, []);
  return types;
}

function Portal({ session, title }) {
  const [signedOut, setSignedOut] = useState(null);
  const api = useMemo(() => {
    const client = createClient(session, (message) => setSignedOut({ message }));
    client.token = session.token;
    return client;
  }, [session]);
  const route = useRoute();
  const catalog = useCatalog(api);
  const can = (scope) => session.scopes.has(scope);

  useEffect(() => {
    const remaining = session.expiresAt.getTime() - Date.now();
    const timer = setTimeout(() => setSignedOut({ message: "" }), Math.max(0, Math.min(remaining, 2 ** 31 - 1)));
    return () => clearTimeout(timer);
  }, [session]);

  if (signedOut) return html`<${SignedOut} title=${title} expired=${true} message=${signedOut.message} />`;

  const [section, id, sub] = route.parts;
  const home = can(SCOPES.endpointsRead) ? "endpoints" : "events";
  const current = section || home;
  let view;
  if (current === "endpoints") {
    if (!can(SCOPES.endpointsRead)) view = html`<${Forbidden} />`;
    else if (id === "new") view = can(SCOPES.endpointsWrite) ? html`<${EndpointForm} api=${api} catalog=${catalog} />` : html`<${Forbidden} />`;
    else if (id && sub === "edit")
      view = can(SCOPES.endpointsWrite)
        ? html`<${EndpointForm} key=${id} api=${api} endpointId=${id} catalog=${catalog} />`
        : html`<${Forbidden} />`;
    else if (id) view = html`<${EndpointDetail} key=${id} api=${api} endpointId=${id} can=${can} />`;
    else view = html`<${EndpointList} api=${api} can=${can} />`;
  } else if (current === "events") {
    if (!can(SCOPES.eventsRead)) view = html`<${Forbidden} />`;
    else if (id) view = html`<${EventDetail} key=${id} api=${api} eventId=${id} can=${can} />`;
    else {
      const filters = Object.fromEntries(route.params.entries());
      view = html`<${EventSearch} key=${route.params.toString()} api=${api} filters=${filters} />`;
    }
  } else {
    view = html`<p class="empty" role="alert">There is no such page. <a href="#/">Go to the start.</a></p>`;
  }

  return html`
    <a class="skip" href="#main" onClick=${(event) => { event.preventDefault(); document.getElementById("main").focus(); }}>Skip to content</a>
    <header class="top">
      <h1>${title}</h1>
      <nav aria-label="Sections">
        ${can(SCOPES.endpointsRead) &&
        html`<a href="#/endpoints" aria-current=${current === "endpoints" ? "page" : undefined}>Endpoints</a>`}
        ${can(SCOPES.eventsRead) &&
        html`<a href="#/events" aria-current=${current === "events" ? "page" : undefined}>Events</a>`}
      </nav>
    </header>
    <main id="main" tabindex="-1">${view}</main>
    <footer>
      <span>Account <code>${session.tenant}</code></span>
      <span>Access: ${[...session.scopes].sort().join(", ")}</span>
      <span>Link valid until <${Time} iso=${session.expiresAt.toISOString()} /></span>
      <span>Times in ${viewerZone}</span>
    </footer>
  `;
}

function start() {
  const title = document.title || "Webhooks";
  const root = document.getElementById("app");
  const session = readSession();
  if (!session) {
    render(html`<${SignedOut} title=${title} expired=${false} />`, root);
  } else if (session.expiresAt.getTime() <= Date.now()) {
    render(html`<${SignedOut} title=${title} expired=${true} />`, root);
  } else {
    render(html`<${Portal} session=${session} title=${title} />`, root);
  }
}

start();
