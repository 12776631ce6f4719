// Outbound notifications: the global pause switch, endpoints (list, create,
// edit, test, replay), deliveries (list, detail, retry), the event type
// catalogue (outbound_catalogue.js).
//
// Routes: #/outbound, #/outbound/endpoints/new, #/outbound/endpoints/:id,
// #/outbound/deliveries, #/deliveries/:id, #/outbound/event-types.
import {
  h, append, clear, api, can, toast, showFormError, clearFormErrors, table, pager, field, pageHeader, navigate, badge, fmtTime, fmtAgo, listAll,
} from "../app.js";
import { eventTypePicker, renderCatalogue, typesOf } from "./outbound_catalogue.js";

export async function render(ctx) {
  if (ctx.hash.startsWith("#/deliveries/")) return renderDelivery(ctx, decodeURIComponent(ctx.params[0]));
  const [section, id] = ctx.params;
  if (section === "deliveries") return renderDeliveries(ctx);
  if (section === "event-types") return renderCatalogue(ctx, subnav);
  if (section === "endpoints" && id === "new") return renderNewEndpoint(ctx);
  if (section === "endpoints" && id) return renderEndpoint(ctx, decodeURIComponent(id));
  return renderIndex(ctx);
}

// ---------- helpers ----------

function subnav(current) {
  const links = [
    ["#/outbound", "Endpoints", "endpoints"],
    ["#/outbound/deliveries", "Deliveries", "deliveries"],
    ["#/outbound/event-types", "Event types", "event-types"],
  ];
  return h(
    "nav.ob-subnav",
    { "aria-label": "Outbound" },
    links.map(([href, label, key]) => h("a", { href, "aria-current": key === current ? "page" : null }, label)),
  );
}

// A <select>; options are [value, label] pairs or plain strings.
function select(name, options, value, attrs = {}) {
  const el = h(
    "select",
    { name, ...attrs },
    options.map((o) => (Array.isArray(o) ? h("option", { value: o[0] }, o[1]) : h("option", { value: o }, o))),
  );
  if (value !== undefined && value !== null) el.value = String(value);
  return el;
}

function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

// "in 5 min" / "5 min ago".
function relative(t) {
  if (!t) return "";
  const ms = new Date(t).getTime() - Date.now();
  if (!isFinite(ms)) return "";
  if (ms <= 0) return fmtAgo(t);
  const s = ms / 1000;
  if (s < 1) return "due now";
  if (s < 60) return `in ${Math.round(s)} s`;
  if (s < 3600) return `in ${Math.round(s / 60)} min`;
  if (s < 86400) return `in ${Math.round(s / 3600)} h`;
  return `in ${Math.round(s / 86400)} d`;
}

// When a pending delivery's next attempt is due: "in 5 min", or "due now"
// once the time has passed (it waits for a free slot, or for a resume).
function due(t) {
  return new Date(t).getTime() <= Date.now() ? "due now" : relative(t);
}

function cut(s, n) {
  s = String(s || "");
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

function enabledBadge(ep) {
  return ep.enabled ? h("span.badge.st-success", "Enabled") : h("span.badge.st-failed", "Disabled");
}

// datetime-local value -> RFC 3339 (the browser's time zone), or "".
function toRFC3339(v) {
  if (!v) return "";
  const d = new Date(v);
  return isNaN(d) ? "" : d.toISOString();
}

// Messages whose first words do not name the form field they are about.
const ERROR_ALIASES = [
  ["event type", "event_types"],
  ["header", "headers"],
  ["cookie", "cookies"],
  ["auth: basic needs a username", "auth.username"],
  ["auth: a basic username", "auth.username"],
  ["auth: bearer needs a token", "auth.token"],
  ["auth: the token", "auth.token"],
  ["auth type", "auth"],
  ["auth.token_url", "auth.token_url"],
  ["auth.client_id", "auth.client_id"],
  ["auth.client_secret", "auth.client_secret"],
  ["auth.scopes", "auth.scopes"],
  ["tls applies", "tls.ca_pem"],
  ["tls: a ", "tls.ca_pem"], // a broker takes no tls settings
  ["validate_on_create", "validate_on_create"],
  ["the password", "password"],
];

// showFormError, plus the aliases above.
export function formError(form, err) {
  showFormError(form, err);
  const msg = String((err && err.message) || err).replace(/^invalid: /, "");
  const alias = ERROR_ALIASES.find(([prefix]) => msg.startsWith(prefix));
  if (!alias) return;
  const target = form.querySelector(`[name="${alias[1]}"]`);
  const note = form.querySelector(".field-error");
  if (!target || !note) return;
  for (const old of form.querySelectorAll("[aria-invalid]")) old.removeAttribute("aria-invalid");
  target.setAttribute("aria-invalid", "true");
  const wrap = target.closest("label");
  if (wrap) wrap.append(note);
  else target.after(note);
  const focusable = target.matches("input,select,textarea") ? target : target.querySelector("input,select,textarea,button");
  if (focusable) focusable.focus();
}

// ---------- #/outbound ----------

async function renderIndex({ main }) {
  const [state, endpoints] = await Promise.all([api("GET", "/outbound"), listAll("/endpoints")]);
  main.append(
    pageHeader(
      "Outbound",
      can("edit") ? h("a.ob-btn", { href: "#/outbound/endpoints/new" }, "New endpoint") : null,
    ),
    subnav("endpoints"),
    pauseCard(state),
    h("h2", "Endpoints"),
    table(
      [
        { title: "Name", cell: (e) => h("a", { href: `#/outbound/endpoints/${encodeURIComponent(e.id)}` }, e.name) },
        { title: "Host", cls: "mono", cell: (e) => hostOf(e.url) },
        {
          title: "State",
          cell: (e) => h("span.ob-state", enabledBadge(e), e.disabled_reason ? h("span.muted", e.disabled_reason) : null),
        },
        { title: "Event types", cls: "mono", cell: (e) => (e.event_types || []).join(", ") },
        {
          title: "Health",
          cell: (e) =>
            e.failing_since || e.consecutive_failures
              ? h(
                  "span.error",
                  e.failing_since ? `failing since ${fmtAgo(e.failing_since)}` : "failing",
                  e.consecutive_failures ? ` · ${e.consecutive_failures} failed in a row` : "",
                )
              : h("span.muted", "ok"),
        },
      ],
      endpoints,
      {
        onRow: (e) => navigate(`#/outbound/endpoints/${encodeURIComponent(e.id)}`),
        empty: can("edit")
          ? "No endpoints yet. Create one to send events to chat tools or your own services."
          : "No endpoints yet.",
      },
    ),
  );
}

function pauseCard(state) {
  const box = h("section.card.ob-pause", { "aria-labelledby": "ob-pause-title" });
  function draw(s) {
    const btn = can("edit")
      ? h(
          s.paused ? "button" : "button.danger",
          {
            type: "button",
            onclick: async () => {
              if (!s.paused && !confirm("Pause all outbound delivery? Events are still accepted; their deliveries wait until you resume.")) return;
              btn.disabled = true;
              try {
                draw(await api("PUT", "/outbound", { paused: !s.paused }));
                toast(s.paused ? "Outbound delivery resumed" : "Outbound delivery paused");
              } catch (e) {
                toast(e.message, "error");
                btn.disabled = false;
              }
            },
          },
          s.paused ? "Resume delivery" : "Pause all delivery",
        )
      : null;
    clear(box).append(
      h(
        "div",
        h("h2#ob-pause-title", "Delivery ", s.paused ? h("span.badge.st-failed", "Paused") : h("span.badge.st-success", "Running")),
        h(
          "p.muted",
          s.paused
            ? "No outbound requests are sent. Events are accepted and their deliveries wait."
            : `Requests in flight: ${s.in_flight}.`,
        ),
      ),
      btn,
    );
  }
  draw(state);
  return box;
}

// ---------- the endpoint form ----------

// keyValueRows edits a {name: value} map; returns {el, get()}.
function keyValueRows(name, legend, map, { keyLabel, valueLabel, addLabel, hint, disabled }) {
  const rows = h("div.ob-kv-rows");
  function add(k = "", v = "") {
    const key = h("input", { value: k, "aria-label": keyLabel, placeholder: keyLabel, autocomplete: "off", spellcheck: "false" });
    const val = h("input", { value: v, "aria-label": valueLabel, placeholder: valueLabel, autocomplete: "off", spellcheck: "false" });
    const row = h(
      "div.ob-kv",
      key,
      val,
      disabled
        ? null
        : h(
            "button.secondary",
            {
              type: "button",
              "aria-label": `Remove ${keyLabel.toLowerCase()} ${k}`.trim(),
              onclick: () => {
                row.remove();
                addBtn.focus();
              },
            },
            "Remove",
          ),
    );
    rows.append(row);
    return key;
  }
  const addBtn = h("button.secondary", { type: "button", onclick: () => add().focus() }, addLabel);
  for (const [k, v] of Object.entries(map || {})) add(k, v);
  const el = h(
    "fieldset.ob-fieldset",
    { name },
    h("legend", legend),
    hint ? h("p.hint.muted", hint) : null,
    rows,
    disabled ? null : addBtn,
  );
  return {
    el,
    set(k, v) {
      for (const row of rows.children) {
        const [ki, vi] = row.querySelectorAll("input");
        if (ki.value.trim().toLowerCase() === k.toLowerCase()) {
          vi.value = v;
          return;
        }
      }
      add(k, v);
    },
    get() {
      const out = {};
      for (const row of rows.children) {
        const [ki, vi] = row.querySelectorAll("input");
        if (ki.value.trim()) out[ki.value.trim()] = vi.value;
      }
      return out;
    },
  };
}

function numberInput(name, value, attrs = {}) {
  return h("input", { name, type: "number", inputmode: "numeric", value: value === undefined || value === null ? "" : value, ...attrs });
}

function readInt(input) {
  const v = input.value.trim();
  return v === "" ? 0 : Number(v);
}

function newSecret() {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return "whsec_" + btoa(String.fromCharCode(...b));
}

// isBrokerURL reports whether an endpoint url names a message broker.
function isBrokerURL(url) {
  return /^(amqp|nats|redis):\/\//i.test(url.trim());
}

// endpointForm builds the create/edit form. ep is the stored endpoint (or
// null to create); onSaved(endpoint) runs after a successful save.
function endpointForm(ep, { presets = [], onSaved, readOnly = false }) {
  const creating = !ep;
  ep = ep || {};
  const basics = basicsSection(ep);
  const request = requestSection(ep, { creating, readOnly });
  const body = bodySection(ep, { creating, presets, headers: request.headers });
  const delivery = deliverySection(ep);
  const signing = signingSection(ep, { creating, readOnly });
  const connection = connectionSection(ep, { creating });
  const validate = h("input", { type: "checkbox", name: "validate_on_create" });

  // A broker url (amqp://, nats://, redis://) has no method, headers,
  // cookies or success rule: those fields are hidden, and not sent.
  function showBroker() {
    const broker = isBrokerURL(basics.url.value);
    basics.methodField.hidden = broker;
    request.headers.el.hidden = broker;
    request.cookies.el.hidden = broker;
    body.verifyRow.hidden = broker;
  }
  basics.url.addEventListener("input", showBroker);
  showBroker();

  const submit = h("button", { type: "submit" }, creating ? "Create endpoint" : "Save changes");
  const content = h(
    "fieldset.ob-plain",
    { disabled: readOnly },
    basics.el,
    request.el,
    connection.el,
    body.el,
    delivery.el,
    signing.el,
    creating
      ? h(
          "label.ob-check.ob-validate",
          validate,
          h("span", h("strong", "Validate before saving: "), "send a VALIDATE request and save only if the endpoint answers 200."),
        )
      : null,
  );

  // On a new endpoint, "Send test" sends the form as it stands one test
  // event (POST /endpoints/test: nothing is saved) and shows the attempt.
  const testOut = h("div.ob-test", { "aria-live": "polite" });
  const testBtn = creating && !readOnly ? h("button.secondary", { type: "button" }, "Send test") : null;
  const form = h(
    "form.card.ob-form",
    { novalidate: true },
    content,
    readOnly ? null : h("div.actions.ob-submit", submit, testBtn),
    testBtn ? testOut : null,
  );

  if (testBtn) {
    testBtn.addEventListener("click", async () => {
      let payload;
      try {
        payload = endpointBody({ basics, request, connection, body, delivery, signing, validate }, creating);
      } catch (err) {
        clear(testOut);
        formError(form, err);
        return;
      }
      delete payload.validate_on_create;
      testBtn.disabled = true;
      clear(testOut).append(h("p.muted", "Sending a switchyard.test event…"));
      try {
        const attempt = await api("POST", "/endpoints/test", payload);
        clearFormErrors(form);
        showTest(testOut, attempt);
      } catch (err) {
        clear(testOut);
        formError(form, err);
      } finally {
        testBtn.disabled = false;
      }
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (readOnly) return;
    let payload;
    try {
      payload = endpointBody({ basics, request, connection, body, delivery, signing, validate }, creating);
    } catch (err) {
      formError(form, err);
      return;
    }
    submit.disabled = true;
    const label = submit.textContent;
    if (payload.validate_on_create) submit.textContent = "Validating…";
    try {
      const saved = creating ? await api("POST", "/endpoints", payload) : await api("PUT", `/endpoints/${encodeURIComponent(ep.id)}`, payload);
      for (const old of form.querySelectorAll(".field-error")) old.remove();
      onSaved(saved);
      // Saved, but it will not work as it is (a URL the egress guard refuses).
      if (saved.warnings && saved.warnings.length) toast(`Saved, but: ${saved.warnings.join(" ")}`, "warn");
    } catch (err) {
      formError(form, err);
    } finally {
      submit.disabled = false;
      submit.textContent = label;
    }
  });
  return form;
}

function textInput(name, value, attrs = {}) {
  return h("input", { name, value: value ?? "", autocomplete: "off", ...attrs });
}

// formSection is one titled part of the endpoint form.
function formSection(title, ...body) {
  return h("fieldset.ob-section", h("legend", title), body);
}

function basicsSection(ep) {
  const name = textInput("name", ep.name, { required: true, maxlength: 200 });
  const description = textInput("description", ep.description);
  const url = textInput("url", ep.url, { required: true, inputmode: "url", spellcheck: "false", placeholder: "https://hooks.example.com/…" });
  const method = select("method", ["POST", "PUT", "PATCH", "GET", "DELETE"], ep.method || "POST");
  const methodField = field("Method", method, "GET sends no body.");
  const eventTypes = h("textarea.ob-short", { name: "event_types", rows: 3, spellcheck: "false", required: true, placeholder: "alarm.*\nmessage.failed" });
  eventTypes.value = (ep.event_types || []).join("\n");
  const filter = h("textarea.ob-short", { name: "filter", rows: 3, spellcheck: "false", placeholder: '{"data.severity": {"$in": ["critical", "major"]}}' });
  filter.value = ep.filter && Object.keys(ep.filter).length ? JSON.stringify(ep.filter, null, 2) : "";
  const el = formSection(
    "Basics",
    h("div.ob-row", field("Name", name), field("Description", description)),
    h(
      "div.ob-row.ob-url",
      field(
        "URL",
        url,
        "http:// or https://; may hold placeholders such as {{timestamp}} and {{sign}}. Or a message broker: amqp://user:pass@host:5672/vhost?routing_key=QUEUE (or exchange=E&routing_key=K), nats://host:4222/SUBJECT (a JetStream stream must capture it), redis://host:6379/0?stream=NAME. A broker's password moves to Authentication and is stored encrypted.",
      ),
      methodField,
    ),
    field("Event types", eventTypes, "One per line or comma separated; * matches anything: alarm.*, *.failed, *. Or tick them in the catalogue below, which ticks what a wildcard covers."),
    eventTypePicker(eventTypes),
    field(
      "Filter",
      filter,
      "Optional JSON: only events it matches are delivered. Dotted paths to a value or operators ($eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, $regex); every path must match.",
    ),
  );
  return { el, name, description, url, method, methodField, eventTypes, filter };
}

// requestSection: headers, cookies, authentication and the timeout.
function requestSection(ep, { creating, readOnly }) {
  const headers = keyValueRows("headers", "Headers", ep.headers, {
    keyLabel: "Header name",
    valueLabel: "Header value",
    addLabel: "Add header",
    hint: "Values may use placeholders such as {{type}}. Credential-like headers (Authorization, X-Api-Key, names with token, secret, auth, password, session, cookie) and those in the API's secret_headers are stored encrypted and shown as [secret]; leave [secret] to keep the stored value.",
    disabled: readOnly,
  });
  const cookies = keyValueRows("cookies", "Cookies", ep.cookies, {
    keyLabel: "Cookie name",
    valueLabel: "Cookie value",
    addLabel: "Add cookie",
    hint: "Sent as one Cookie header. Values are stored encrypted and shown as [secret]; leave [secret] to keep the stored value.",
    disabled: readOnly,
  });

  const auth = ep.auth || { type: "none" };
  const authType = select(
    "auth",
    [["none", "None"], ["basic", "Basic (username and password)"], ["bearer", "Bearer token"], ["oauth2", "OAuth 2.0 client credentials"]],
    auth.type || "none",
  );
  const username = textInput("auth.username", auth.username);
  const password = textInput("auth.password", "", { type: "password", autocomplete: "new-password" });
  const token = textInput("auth.token", "", { type: "password", autocomplete: "new-password" });
  const keepNote = (set, what) => (set ? `A ${what} is stored: leave empty to keep it, or type a new one.` : null);
  const basicFields = h(
    "div.ob-row",
    field("Username", username),
    field("Password", password, !creating && auth.type === "basic" ? keepNote(auth.password_set, "password") : null),
  );
  const bearerFields = h(
    "div.ob-row",
    field("Token", token, !creating && auth.type === "bearer" ? keepNote(auth.token_set, "token") : null),
  );
  const tokenURL = textInput("auth.token_url", auth.token_url, { inputmode: "url", spellcheck: "false", placeholder: "https://auth.example.com/oauth2/token" });
  const clientID = textInput("auth.client_id", auth.client_id, { spellcheck: "false" });
  const clientSecret = textInput("auth.client_secret", "", { type: "password", autocomplete: "new-password" });
  const scopes = textInput("auth.scopes", (auth.scopes || []).join(" "), { spellcheck: "false", placeholder: "hooks.write" });
  const oauthFields = h(
    "div",
    h("div.ob-row", field("Token URL", tokenURL, "The token endpoint; the token is fetched with the client credentials grant and cached until it expires."), field("Scopes", scopes, "Space separated; optional.")),
    h(
      "div.ob-row",
      field("Client ID", clientID),
      field("Client secret", clientSecret, !creating && auth.type === "oauth2" ? keepNote(auth.client_secret_set, "client secret") : "Write-only: stored encrypted, never shown."),
    ),
  );
  function showAuth() {
    basicFields.hidden = authType.value !== "basic";
    bearerFields.hidden = authType.value !== "bearer";
    oauthFields.hidden = authType.value !== "oauth2";
  }
  authType.addEventListener("change", showAuth);
  showAuth();

  const timeout = numberInput("timeout_ms", ep.timeout_ms, { min: 500, max: 120000, step: 100, placeholder: "5000" });
  const el = formSection(
    "Request",
    headers.el,
    cookies.el,
    h("div.ob-row", field("Authentication", authType), h("div")),
    basicFields,
    bearerFields,
    oauthFields,
    h("div.ob-row", field("Timeout (ms)", timeout, "500 to 120000; default 5000.")),
  );
  return { el, headers, cookies, authType, username, password, token, tokenURL, clientID, clientSecret, scopes, timeout };
}

// connectionSection: how the receiver is reached, folded away unless
// set: a proxy, and TLS settings (roots, a client certificate, the
// server name). The proxy's password and the client key are write-only.
function connectionSection(ep, { creating }) {
  const t = ep.tls || {};
  const proxy = textInput("proxy", ep.proxy, { inputmode: "url", spellcheck: "false", placeholder: "http://user@proxy.example.com:3128" });
  const proxyPassword = textInput("proxy_password", "", { type: "password", autocomplete: "new-password" });
  const pem = (name, value, placeholder) => {
    const el = h("textarea.ob-short", { name, rows: 3, spellcheck: "false", placeholder });
    el.value = value || "";
    return el;
  };
  const caPEM = pem("tls.ca_pem", t.ca_pem, "-----BEGIN CERTIFICATE-----");
  const certPEM = pem("tls.client_cert_pem", t.client_cert_pem, "-----BEGIN CERTIFICATE-----");
  const keyPEM = pem("tls.client_key_pem", "", t.client_key_set ? "A client key is stored: leave empty to keep it." : "-----BEGIN PRIVATE KEY-----");
  const serverName = textInput("tls.server_name", t.server_name, { spellcheck: "false", placeholder: "hooks.internal" });
  const set = !!(ep.proxy || t.ca_pem || t.client_cert_pem || t.server_name);
  const el = formSection(
    "Connection",
    h(
      "details.ob-connection",
      { open: set },
      h("summary", "Proxy and TLS"),
      h(
        "div.ob-row",
        field("Proxy", proxy, "http:// or https:// proxy URL; https targets go through a CONNECT tunnel. Empty: straight to the receiver."),
        field(
          "Proxy password",
          proxyPassword,
          !creating && ep.proxy_password_set ? "A password is stored: leave empty to keep it (while the user name stays the same)." : "Write-only; needs a user name in the proxy URL.",
        ),
      ),
      field("CA certificates (PEM)", caPEM, "When set, the only roots the receiver's certificate is checked against."),
      h(
        "div.ob-row",
        field("Client certificate (PEM)", certPEM, "Offered to receivers that ask for one (mutual TLS)."),
        field("Client key (PEM)", keyPEM, "Write-only: stored encrypted, never shown; must match the certificate."),
      ),
      h("div.ob-row", field("Server name", serverName, "Checked against the receiver's certificate in place of the URL's host."), h("div")),
    ),
  );
  return { el, proxy, proxyPassword, caPEM, certPEM, keyPEM, serverName };
}

// proxyURL is the proxy to send: the URL, with the password typed in
// put in it.
function proxyURL(raw, password) {
  raw = raw.trim();
  if (!password || !raw) return raw;
  let u;
  try {
    u = new URL(raw);
  } catch {
    throw new Error("proxy is not a URL, e.g. http://user@proxy.example.com:3128");
  }
  if (!u.username) throw new Error("proxy: put the user name in the URL (http://user@proxy.example.com:3128) to go with the password");
  u.password = password;
  return u.href.replace(/\/$/, "");
}

// bodySection: the body template (a preset fills it in, with its headers),
// the default body's fields, and what counts as success.
function bodySection(ep, { creating, presets, headers }) {
  const preset = creating && presets.length
    ? select("preset", [["", "None: the default body"], ...presets.map((p) => [p.name, p.title || p.name])], "")
    : null;
  const presetHint = h("span.hint");
  const bodyTemplate = h("textarea", { name: "body_template", rows: 8, spellcheck: "false", placeholder: '{"text": "{{title}}\\n{{message}}"}' });
  bodyTemplate.value = ep.body_template || "";
  const bodyTemplates = h("textarea.ob-short", { name: "body_templates", rows: 3, spellcheck: "false", placeholder: '{"zh": "{\\"text\\": \\"【告警】{{title}}\\"}"}' });
  bodyTemplates.value = ep.body_templates && Object.keys(ep.body_templates).length ? JSON.stringify(ep.body_templates, null, 2) : "";
  const msgKey = textInput("msg_key", ep.msg_key, { placeholder: "Msg" });
  const extraBody = h("textarea.ob-short", { name: "extra_body", rows: 3, spellcheck: "false", placeholder: '{"team": "ops"}' });
  extraBody.value = ep.extra_body && Object.keys(ep.extra_body).length ? JSON.stringify(ep.extra_body, null, 2) : "";
  const verify = ep.verify || {};
  const verifyType = select("verify.type", [["", "Any 2xx"], ["status", "Status is"], ["contains", "2xx and body contains"]], verify.type || "");
  const verifyValue = textInput("verify.value", verify.value, { placeholder: "200, or \"errcode\":0" });
  const verifyRow = h("div.ob-row", field("Success when", verifyType), field("Expected value", verifyValue, "For \"status\" an HTTP status; for \"contains\" text the body must hold."));

  if (preset) {
    preset.addEventListener("change", () => {
      const p = presets.find((x) => x.name === preset.value);
      presetHint.textContent = p ? p.description || "" : "";
      if (!p) return;
      bodyTemplate.value = p.body_template || "";
      verifyType.value = (p.verify && p.verify.type) || "";
      verifyValue.value = (p.verify && p.verify.value) || "";
      for (const [k, v] of Object.entries(p.headers || {})) headers.set(k, v);
    });
  }
  const el = formSection(
    "Body",
    preset ? field("Start from a preset", preset, presetHint) : null,
    field("Body template", bodyTemplate, "JSON with placeholders: {{type}} {{title}} {{subTitle}} {{message}} {{time}} {{timestamp}} {{sign}} {{id}} {{data}} {{data.x.y}}. Empty: the default body (the event, extra fields and the text under the message key)."),
    field(
      "Body templates by language",
      bodyTemplates,
      "Optional JSON object of language (en, zh) to a body template: an endpoint whose language has one is sent it instead of the body template above.",
    ),
    h("div.ob-row", field("Message key", msgKey, "Where the default body puts the text; default Msg."), h("div")),
    field("Extra body fields", extraBody, "A JSON object added to the default body."),
    verifyRow,
  );
  return { el, preset, bodyTemplate, bodyTemplates, msgKey, extraBody, verifyType, verifyValue, verifyRow };
}

// deliverySection: retries, concurrency, rate, language and when to
// disable the endpoint.
function deliverySection(ep) {
  const retry = ep.retry || {};
  const maxAttempts = numberInput("retry.max_attempts", retry.max_attempts, { min: 1, placeholder: "8" });
  const intervalMS = numberInput("retry.interval_ms", retry.interval_ms || "", { min: 0, placeholder: "default schedule" });
  const backoff = select("retry.backoff", [["exponential", "Exponential"], ["fixed", "Fixed"]], retry.backoff || "exponential");
  const concurrency = numberInput("concurrency", ep.concurrency, { min: 1, max: 256, placeholder: "8" });
  const rateLimit = numberInput("rate_limit", ep.rate_limit, { min: 0, step: "any", inputmode: "decimal", placeholder: "0" });
  const ad = ep.auto_disable || {};
  const failingFor = numberInput("auto_disable.failing_for_hours", ad.failing_for_hours, { min: 0, placeholder: "120" });
  const consecutive = numberInput("auto_disable.consecutive_failures", ad.consecutive_failures, { min: 0, placeholder: "0" });
  const language = select("language", [["en", "English"], ["zh", "中文 (Chinese)"]], ep.language || "en");
  const el = formSection(
    "Delivery",
    h(
      "div.ob-row3",
      field("Max attempts", maxAttempts, "First attempt included; default 8."),
      field("Retry interval (ms)", intervalMS, "Empty with exponential: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h…"),
      field("Backoff", backoff),
    ),
    h(
      "div.ob-row3",
      field("Concurrency", concurrency, "Requests in flight at most (1–256); default 8."),
      field("Rate limit (per second)", rateLimit, "0: no limit."),
      field("Language", language, "Of Switchyard's own titles."),
    ),
    h(
      "div.ob-row",
      field("Disable after failing for (hours)", failingFor, "Default 120 (5 days)."),
      field("…or after failed deliveries in a row", consecutive, "0: never by count."),
    ),
  );
  return { el, maxAttempts, intervalMS, backoff, concurrency, rateLimit, failingFor, consecutive, language };
}

// signingSection: the signing secret, write-only, its state, and a
// generator of Standard Webhooks secrets.
function signingSection(ep, { creating, readOnly }) {
  const signing = ep.signing || {};
  const secret = textInput("signing_secret", "", { type: "password", autocomplete: "new-password", spellcheck: "false" });
  const removeSecret = h("input", { type: "checkbox", name: "remove_signing_secret" });
  const showSecret = h("input", { type: "checkbox" });
  showSecret.addEventListener("change", () => (secret.type = showSecret.checked ? "text" : "password"));
  const genBtn = h(
    "button.secondary",
    {
      type: "button",
      onclick: () => {
        secret.value = newSecret();
        secret.type = "text";
        showSecret.checked = true;
        removeSecret.checked = false;
        secret.select();
      },
    },
    "Generate a whsec_ secret",
  );
  // The server makes the Ed25519 pair: its secret key never reaches the
  // browser, and the endpoint's page then shows the public key.
  const genEdBtn = h(
    "button.secondary",
    {
      type: "button",
      onclick: () => {
        secret.value = "generate:v1a";
        secret.type = "text";
        showSecret.checked = true;
        removeSecret.checked = false;
      },
    },
    "Generate an Ed25519 (v1a) key pair",
  );
  let signingState;
  if (creating) signingState = null;
  else if (signing.secret)
    signingState = h(
      "p.ob-note",
      h("span.badge.st-success", "Set"),
      " ",
      signing.type === "v1a"
        ? ["Standard Webhooks v1a (Ed25519) key: requests carry webhook-signature: v1a. Receivers verify with the public key ", h("code.ob-public-key", signing.public_key), "."]
        : signing.standard_webhooks
          ? "Standard Webhooks (whsec_) secret: requests carry webhook-signature."
          : "Secret set: it feeds {{sign}} only.",
      signing.rotating_until ? ` The previous secret also signs until ${fmtTime(signing.rotating_until)} (${relative(signing.rotating_until)}).` : "",
    );
  else signingState = h("p.ob-note", h("span.badge", "Not set"), " Requests are not signed.");

  const el = formSection(
    "Signing",
    signingState,
    field(
      creating ? "Signing secret" : "New signing secret",
      secret,
      creating
        ? "Write-only. A whsec_… secret adds Standard Webhooks v1 signatures, a whsk_… Ed25519 key (or generate:v1a) v1a signatures; any other string only feeds {{sign}}."
        : "Write-only: leave empty to keep the current secret. A new secret is rotated in: the old one keeps signing for 24 hours.",
    ),
    h(
      "div.ob-inline",
      readOnly ? null : genBtn,
      readOnly ? null : genEdBtn,
      h("label.ob-check", showSecret, "Show"),
      !creating && signing.secret ? h("label.ob-check", removeSecret, "Stop signing (remove the secret now)") : null,
    ),
  );
  return { el, secret, removeSecret };
}

// endpointBody reads the form's sections into the API's endpoint, or
// throws an error that names the field.
function endpointBody({ basics, request, connection, body, delivery, signing, validate }, creating) {
  const { timeout } = request;
  const { maxAttempts, intervalMS, concurrency, rateLimit, failingFor, consecutive } = delivery;
  const out = {
    name: basics.name.value.trim(),
    description: basics.description.value,
    url: basics.url.value.trim(),
    method: basics.method.value,
    event_types: typesOf(basics.eventTypes),
    headers: request.headers.get(),
    cookies: request.cookies.get(),
    body_template: body.bodyTemplate.value,
    msg_key: body.msgKey.value.trim(),
    timeout_ms: readInt(timeout),
    retry: { max_attempts: readInt(maxAttempts), interval_ms: readInt(intervalMS), backoff: delivery.backoff.value },
    verify: { type: body.verifyType.value, value: body.verifyValue.value },
    language: delivery.language.value,
    concurrency: readInt(concurrency),
    rate_limit: rateLimit.value.trim() === "" ? 0 : Number(rateLimit.value),
    auto_disable: { failing_for_hours: readInt(failingFor), consecutive_failures: readInt(consecutive) },
  };
  if (isBrokerURL(out.url)) {
    delete out.method;
    out.headers = {};
    out.cookies = {};
    out.verify = { type: "", value: "" };
  }
  const a = { type: request.authType.value };
  if (a.type === "basic") {
    a.username = request.username.value;
    if (request.password.value) a.password = request.password.value;
  } else if (a.type === "bearer") {
    if (request.token.value) a.token = request.token.value;
  } else if (a.type === "oauth2") {
    a.token_url = request.tokenURL.value.trim();
    a.client_id = request.clientID.value.trim();
    a.scopes = request.scopes.value.split(/\s+/).filter(Boolean);
    if (request.clientSecret.value) a.client_secret = request.clientSecret.value;
  }
  out.auth = a;
  out.proxy = proxyURL(connection.proxy.value, connection.proxyPassword.value);
  out.tls = { ca_pem: connection.caPEM.value.trim(), client_cert_pem: connection.certPEM.value.trim(), server_name: connection.serverName.value.trim() };
  if (out.tls.ca_pem) out.tls.ca_pem += "\n";
  if (out.tls.client_cert_pem) out.tls.client_cert_pem += "\n";
  if (connection.keyPEM.value.trim()) out.tls.client_key_pem = connection.keyPEM.value.trim() + "\n";
  const filter = basics.filter.value.trim();
  if (filter) {
    let parsed;
    try {
      parsed = JSON.parse(filter);
    } catch (e) {
      throw new Error(`filter is not valid JSON: ${e.message}`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error('filter must be a JSON object, e.g. {"data.severity": "critical"}');
    out.filter = parsed;
  } else {
    out.filter = {};
  }
  const templates = body.bodyTemplates.value.trim();
  if (templates) {
    let parsed;
    try {
      parsed = JSON.parse(templates);
    } catch (e) {
      throw new Error(`body_templates is not valid JSON: ${e.message}`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== "string")) {
      throw new Error('body_templates must be a JSON object of language to template text, e.g. {"zh": "{\\"text\\": \\"{{title}}\\"}"}');
    }
    out.body_templates = parsed;
  } else {
    out.body_templates = {};
  }
  const extra = body.extraBody.value.trim();
  if (extra) {
    let parsed;
    try {
      parsed = JSON.parse(extra);
    } catch (e) {
      throw new Error(`extra_body is not valid JSON: ${e.message}`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("extra_body must be a JSON object, e.g. {\"team\": \"ops\"}");
    out.extra_body = parsed;
  } else {
    out.extra_body = {};
  }
  for (const [k, input] of [["timeout_ms", timeout], ["retry.max_attempts", maxAttempts], ["retry.interval_ms", intervalMS], ["concurrency", concurrency], ["auto_disable.failing_for_hours", failingFor], ["auto_disable.consecutive_failures", consecutive]]) {
    const n = readInt(input);
    if (!Number.isInteger(n)) throw new Error(`${k} must be a whole number`);
  }
  if (!Number.isFinite(out.rate_limit)) throw new Error("rate_limit must be a number");
  if (signing.removeSecret.checked) out.signing_secret = "";
  else if (signing.secret.value) out.signing_secret = signing.secret.value.trim();
  if (creating) {
    if (body.preset && body.preset.value) out.preset = body.preset.value;
    out.validate_on_create = validate.checked;
  }
  return out;
}

// ---------- #/outbound/endpoints/new ----------

async function renderNewEndpoint({ main }) {
  if (!can("edit")) {
    main.append(h("h1", "Not allowed"), h("p", "Creating endpoints needs the editor or admin role."));
    return;
  }
  let presets = [];
  try {
    presets = (await api("GET", "/endpoint-presets")).items || [];
  } catch (e) {
    toast(`Presets unavailable: ${e.message}`, "error");
  }
  append(
    main,
    h("p.ob-crumbs", h("a", { href: "#/outbound" }, "Outbound"), " / New endpoint"),
    pageHeader("New endpoint"),
    endpointForm(null, {
      presets,
      onSaved: (ep) => {
        navigate(`#/outbound/endpoints/${encodeURIComponent(ep.id)}`, { toast: `Endpoint "${ep.name}" created` });
      },
    }),
  );
  main.querySelector("input[name=name]").focus();
}

// ---------- #/outbound/endpoints/:id ----------

async function renderEndpoint(ctx, id) {
  const { main } = ctx;
  const ep = await api("GET", `/endpoints/${encodeURIComponent(id)}`);
  const path = `/endpoints/${encodeURIComponent(ep.id)}`;
  const rerender = () => {
    clear(main);
    return renderEndpoint(ctx, id);
  };

  const testOut = h("div.ob-test", { "aria-live": "polite" });
  const actions = can("edit") ? endpointActions(ep, { path, testOut, rerender }) : [];

  // Deliveries of this endpoint.
  const statusFilter = select("status", [["", "Any status"], "PENDING", "SUCCESS", "FAILED"], ctx.query.get("status") || "");
  const deliveriesBox = h("div");
  const loadDeliveries = () => clear(deliveriesBox).append(deliveriesList({ endpoint_id: ep.id, status: statusFilter.value }, {}));
  statusFilter.addEventListener("change", loadDeliveries);
  loadDeliveries();

  const replay = can("operate") ? replayForm(path, loadDeliveries) : null;

  const form = endpointForm(ep, {
    readOnly: !can("edit"),
    onSaved: async () => {
      toast("Endpoint saved");
      await rerender();
    },
  });

  const jump = (target, label) =>
    h("button.link", {
      type: "button",
      onclick: () => {
        target.scrollIntoView({ behavior: "smooth", block: "start" });
        target.focus({ preventScroll: true });
      },
    }, label);
  const settingsTitle = h("h2#ob-settings", { tabindex: -1 }, "Settings");
  const deliveriesTitle = h("h2#ob-deliveries", { tabindex: -1 }, "Deliveries");

  append(
    main,
    h("p.ob-crumbs", h("a", { href: "#/outbound" }, "Outbound"), " / ", ep.name),
    pageHeader(ep.name, actions),
    ep.description ? h("p.muted", ep.description) : null,
    testOut,
    endpointSummary(ep),
    h("p.ob-jump", "Jump to: ", jump(deliveriesTitle, "Deliveries"), " · ", jump(settingsTitle, "Settings")),
    deliveriesTitle,
    h("div.filters", field("Status", statusFilter)),
    deliveriesBox,
    replay ? [h("h2#ob-replay-title", "Replay failed deliveries"), h("p.muted", "Sends every FAILED delivery of this endpoint created in the range again, with a fresh retry budget. Leave a bound empty for no limit."), replay] : null,
    settingsTitle,
    can("edit") ? null : h("p.muted", "Read-only: editing endpoints needs the editor or admin role."),
    form,
  );
}

// endpointActions are the editors' buttons: enable or disable, send a
// test (its result shown in testOut), delete.
function endpointActions(ep, { path, testOut, rerender }) {
  const toggle = h(
    ep.enabled ? "button.secondary" : "button",
    {
      type: "button",
      onclick: async () => {
        toggle.disabled = true;
        try {
          await api("PUT", path, { enabled: !ep.enabled });
          toast(ep.enabled ? "Endpoint disabled" : "Endpoint enabled");
          await rerender();
        } catch (e) {
          toast(e.message, "error");
          toggle.disabled = false;
        }
      },
    },
    ep.enabled ? "Disable" : "Enable",
  );
  const testBtn = h(
    "button.secondary",
    {
      type: "button",
      onclick: async () => {
        testBtn.disabled = true;
        clear(testOut).append(h("p.muted", "Sending a switchyard.test event…"));
        try {
          showTest(testOut, await api("POST", `${path}/test`, {}));
        } catch (e) {
          clear(testOut).append(h("div.card", h("p.error", `Test failed: ${e.message}`)));
        } finally {
          testBtn.disabled = false;
        }
      },
    },
    "Send test",
  );
  const del = h(
    "button.danger",
    {
      type: "button",
      onclick: async () => {
        if (!confirm(`Delete the endpoint "${ep.name}"? Its pending deliveries fail.`)) return;
        del.disabled = true;
        try {
          await api("DELETE", path);
          navigate("#/outbound", { toast: `Endpoint "${ep.name}" deleted` });
        } catch (e) {
          toast(e.message, "error");
          del.disabled = false;
        }
      },
    },
    "Delete",
  );
  return [toggle, testBtn, del];
}

function endpointSummary(ep) {
  return h(
    "section.card",
    { "aria-label": "Status" },
    h(
      "dl.kv",
      h("dt", "State"),
      h("dd", enabledBadge(ep), ep.disabled_reason ? h("span.muted", " ", ep.disabled_reason) : null),
      h("dt", "URL"),
      h("dd.mono", isBrokerURL(ep.url || "") ? ep.url : `${ep.method} ${ep.url}`),
      h("dt", "Event types"),
      h("dd.mono", (ep.event_types || []).join(", ")),
      ep.filter && Object.keys(ep.filter).length ? [h("dt", "Filter"), h("dd.mono.ob-filter", JSON.stringify(ep.filter))] : null,
      ep.body_templates && Object.keys(ep.body_templates).length
        ? [h("dt", "Body templates"), h("dd.mono.ob-body-templates", Object.keys(ep.body_templates).sort().join(", "))]
        : null,
      h("dt", "Health"),
      h(
        "dd",
        ep.failing_since || ep.consecutive_failures
          ? h(
              "span.error",
              ep.failing_since ? `Failing since ${fmtTime(ep.failing_since)} (${fmtAgo(ep.failing_since)})` : "Failing",
              ep.consecutive_failures ? `; ${ep.consecutive_failures} failed deliveries in a row` : "",
            )
          : "No failures on record",
      ),
      h("dt", "Id"),
      h("dd.mono", ep.id),
      h("dt", "Updated"),
      h("dd", fmtTime(ep.updated_at)),
    ),
  );
}

// replayForm sends the endpoint's FAILED deliveries of a time range again
// (operators); onReplayed() runs when some were.
function replayForm(path, onReplayed) {
  const since = h("input", { type: "datetime-local", name: "since", step: 1 });
  const until = h("input", { type: "datetime-local", name: "until", step: 1 });
  const out = h("p.ob-result", { "aria-live": "polite" });
  const btn = h("button", { type: "submit" }, "Replay failed deliveries");
  const replay = h(
    "form.card.filters",
    { novalidate: true, "aria-labelledby": "ob-replay-title" },
    field("Created since", since),
    field("Created before", until),
    btn,
    out,
  );
  replay.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {};
    if (since.value) body.since = toRFC3339(since.value);
    if (until.value) body.until = toRFC3339(until.value);
    btn.disabled = true;
    out.textContent = "";
    try {
      const r = await api("POST", `${path}/replay`, body);
      out.textContent = r.replayed === 1 ? "Replayed 1 failed delivery." : `Replayed ${r.replayed} failed deliveries.`;
      if (r.replayed) onReplayed();
    } catch (err) {
      showFormError(replay, err);
    } finally {
      btn.disabled = false;
    }
  });
  return replay;
}

// confirmed reports whether an attempt is a broker's confirm: no HTTP
// status, and the broker's receipt as the response.
function confirmed(a) {
  return !a.error && !a.status && (a.response || "").startsWith("confirmed: ");
}

function showTest(box, a) {
  const ok = (!a.error && a.status >= 200 && a.status < 300) || confirmed(a);
  clear(box).append(
    h(
      "section.card.ob-test-card",
      { "aria-label": "Test result" },
      h(
        "h2",
        "Test ",
        ok ? h("span.badge.st-success", "OK") : h("span.badge.st-failed", "Failed"),
      ),
      h(
        "dl.kv",
        h("dt", "Status"),
        h("dd", a.status ? String(a.status) : confirmed(a) ? "confirmed by the broker" : "no answer"),
        h("dt", "Latency"),
        h("dd", a.latency_ms !== undefined ? `${Math.round(a.latency_ms * 10) / 10} ms` : "—"),
        a.error ? [h("dt", "Error"), h("dd.error", a.error)] : null,
      ),
      a.response ? [h("h3.ob-h3", "Response"), h("pre", a.response)] : h("p.muted", "Empty response body."),
    ),
  );
}

// ---------- deliveries ----------

// deliveriesList: a paged table of deliveries. filter has endpoint_id,
// event_id, status; names maps endpoint ids to names (shows the column).
function deliveriesList(filter, { names } = {}) {
  const rows = [];
  const holder = h("div", h("p.muted", "Loading…"));
  const columns = [
    {
      title: "Created",
      cell: (d) => h("a", { href: `#/deliveries/${encodeURIComponent(d.id)}`, title: d.id }, fmtTime(d.created_at)),
    },
    { title: "Status", cell: (d) => badge(d.status) },
    { title: "Event", cls: "mono", cell: (d) => d.event_type },
    names
      ? {
          title: "Endpoint",
          cell: (d) =>
            d.endpoint_id
              ? h("a", { href: `#/outbound/endpoints/${encodeURIComponent(d.endpoint_id)}` }, names.get(d.endpoint_id) || cut(d.endpoint_id, 13))
              : h("span.muted", d.lane || "callback"),
        }
      : null,
    { title: "Attempts", cell: (d) => String(d.attempt_count) },
    {
      title: "Last answer",
      cell: (d) =>
        h("span", d.last_status ? String(d.last_status) : "", d.last_status && d.last_error ? " · " : "", d.last_error ? h("span.error", cut(d.last_error, 90)) : d.last_status ? "" : "—"),
    },
    { title: "Next attempt", cell: (d) => (d.status === "PENDING" && d.next_at ? h("span", { title: fmtTime(d.next_at) }, due(d.next_at)) : "—") },
  ].filter(Boolean);
  const p = pager(
    (cursor) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
      if (cursor) q.set("cursor", cursor);
      return api("GET", "/deliveries?" + q);
    },
    (items) => {
      rows.push(...items);
      clear(holder).append(
        table(columns, rows, {
          onRow: (d) => navigate(`#/deliveries/${encodeURIComponent(d.id)}`),
          empty: "No deliveries match.",
        }),
      );
    },
  );
  p.el.hidden = true;
  p.more();
  return h("div", holder, p.el);
}

// #/outbound/deliveries?status=&endpoint_id=&event_id=
async function renderDeliveries({ main, query }) {
  const endpoints = await listAll("/endpoints");
  const names = new Map(endpoints.map((e) => [e.id, e.name]));
  const status = select("status", [["", "Any status"], "PENDING", "SUCCESS", "FAILED"], (query.get("status") || "").toUpperCase());
  const endpoint = select("endpoint_id", [["", "All endpoints"], ...endpoints.map((e) => [e.id, e.name])], query.get("endpoint_id") || "");
  const eventId = h("input", { name: "event_id", value: query.get("event_id") || "", spellcheck: "false", autocomplete: "off", placeholder: "0193…" });
  const filters = h(
    "form.filters",
    { role: "search", "aria-label": "Filter deliveries" },
    field("Status", status),
    field("Endpoint", endpoint),
    field("Event id", eventId),
    h("button", { type: "submit" }, "Apply"),
    query.toString() ? h("a.ob-btn.secondary", { href: "#/outbound/deliveries" }, "Clear") : null,
  );
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (status.value) q.set("status", status.value);
    if (endpoint.value) q.set("endpoint_id", endpoint.value);
    if (eventId.value.trim()) q.set("event_id", eventId.value.trim());
    navigate("#/outbound/deliveries" + (q.toString() ? "?" + q : ""));
  });
  main.append(
    pageHeader("Outbound"),
    subnav("deliveries"),
    h("h2.ob-first", "Deliveries"),
    filters,
    deliveriesList({ status: status.value, endpoint_id: endpoint.value, event_id: eventId.value.trim() }, { names }),
  );
}

// #/deliveries/:id
async function renderDelivery(ctx, id) {
  const { main } = ctx;
  const d = await api("GET", `/deliveries/${encodeURIComponent(id)}`);
  let endpointName = "";
  if (d.endpoint_id) {
    try {
      endpointName = (await api("GET", `/endpoints/${encodeURIComponent(d.endpoint_id)}`)).name;
    } catch {
      endpointName = "";
    }
  }
  const reload = () => {
    clear(main);
    return renderDelivery(ctx, id);
  };

  const actions = [h("button.secondary", { type: "button", onclick: reload }, "Refresh")];
  if (can("operate")) actions.push(retryButton(d, reload));

  const redacted = !can("operate");
  const ev = d.event;
  append(
    main,
    h("p.ob-crumbs", h("a", { href: "#/outbound/deliveries" }, "Deliveries"), " / ", h("span.mono", cut(d.id, 24))),
    pageHeader("Delivery", actions),
    d.status === "PENDING" && can("operate") ? h("p.muted#ob-retry-why", "Retry is available once the delivery has finished (SUCCESS or FAILED); it is still being attempted.") : null,
    deliverySummary(d, endpointName),
    d.callback
      ? [
          h("h2", "Callback request"),
          h("pre", `${d.callback.method} ${d.callback.url}\n` + Object.entries(d.callback.headers || {}).map(([k, v]) => `${k}: ${v}\n`).join("") + (d.callback.body ? "\n" + d.callback.body : "")),
        ]
      : null,
    h("h2", "Event"),
    ev
      ? h("pre", JSON.stringify(ev, null, 2))
      : h("p.muted", redacted ? "Hidden: seeing events and responses needs the operator role or above." : "The event is no longer stored."),
    h("h2", `Attempts (${(d.attempts || []).length})`),
    attemptsList(d.attempts || [], redacted),
  );
}

// retryButton sends a finished delivery again (operators).
function retryButton(d, reload) {
  const pending = d.status === "PENDING";
  const retry = h(
    "button",
    {
      type: "button",
      disabled: pending,
      "aria-describedby": pending ? "ob-retry-why" : null,
      onclick: async () => {
        retry.disabled = true;
        try {
          await api("POST", `/deliveries/${encodeURIComponent(d.id)}/retry`, {});
          toast("Retry queued");
          await reload();
        } catch (e) {
          toast(e.message, "error");
          retry.disabled = false;
        }
      },
    },
    "Retry now",
  );
  return retry;
}

function deliverySummary(d, endpointName) {
  return h(
    "section.card",
    { "aria-label": "Delivery" },
    h(
      "dl.kv",
      h("dt", "Status"),
      h("dd", badge(d.status)),
      h("dt", "Webhook id"),
      h("dd.mono", d.id),
      h("dt", "Endpoint"),
      h(
        "dd",
        d.endpoint_id
          ? h("a", { href: `#/outbound/endpoints/${encodeURIComponent(d.endpoint_id)}` }, endpointName || d.endpoint_id)
          : h("span", "Script callback ", h("span.mono", d.lane || "")),
      ),
      h("dt", "Event type"),
      h("dd.mono", d.event_type),
      h("dt", "Event id"),
      h("dd.mono", h("a", { href: `#/outbound/deliveries?event_id=${encodeURIComponent(d.event_id)}` }, d.event_id)),
      h("dt", "Attempts"),
      h("dd", String(d.attempt_count)),
      d.next_at ? [h("dt", "Next attempt"), h("dd", fmtTime(d.next_at), " (", due(d.next_at), ")")] : null,
      h("dt", "Last answer"),
      h("dd", d.last_status ? String(d.last_status) : "—"),
      d.last_error ? [h("dt", "Last error"), h("dd.error", d.last_error)] : null,
      h("dt", "Created"),
      h("dd", fmtTime(d.created_at)),
      h("dt", "Updated"),
      h("dd", fmtTime(d.updated_at)),
    ),
  );
}

// attemptsList: each attempt's time, answer and response (the response
// hidden below the operator role).
function attemptsList(attempts, redacted) {
  return attempts.length
    ? h(
        "ol.ob-attempts",
        attempts.map((a) =>
          h(
            "li.card",
            h(
              "div.ob-attempt-head",
              h("strong", `Attempt ${a.n}`),
              h("span", fmtTime(a.at)),
              a.error ? h("span.badge.st-failed", a.status ? String(a.status) : "no answer") : h("span.badge.st-success", String(a.status || "ok")),
              h("span.muted", `${Math.round((a.latency_ms || 0) * 10) / 10} ms`),
            ),
            a.error ? h("p.error", a.error) : null,
            a.response ? h("pre", a.response) : redacted ? null : h("p.muted", "Empty response body."),
          ),
        ),
      )
    : h("p.muted", "No attempts yet.");
}
