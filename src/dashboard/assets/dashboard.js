// The dashboard page's script: lists the caller's jobs, shows one job's results, and follows it live over SSE.
// Every text from the API (addresses, template names, error messages) goes into the page through textContent or
// attribute setters, never as markup; the page's CSP also enforces Trusted Types, so an HTML sink would throw.

/** The router's mount path: this script is served from `<mount>/dashboard/dashboard.js`. */
const API = new URL('..', import.meta.url);
const REFRESH_MS = 5_000;
const FINAL = new Set(['completed', 'failed', 'canceled']);
const JOB_STATUSES = ['scheduled', 'queued', 'sending', 'paused', 'completed', 'failed', 'canceled'];
/** Result filters: a label and the `status=` list it asks for ('' = all). */
const RESULT_FILTERS = [
  ['All results', ''],
  ['Sent', 'SUCCESS'],
  ['Pending', 'PENDING'],
  [
    'Failed',
    'MESSAGE_REJECTED,MAIL_FROM_DOMAIN_NOT_VERIFIED,CONFIGURATION_SET_NOT_FOUND,TEMPLATE_NOT_FOUND,ACCOUNT_SUSPENDED,ACCOUNT_THROTTLED,ACCOUNT_DAILY_QUOTA_EXCEEDED,INVALID_SENDING_POOL_NAME,ACCOUNT_SENDING_PAUSED,CONFIGURATION_SET_SENDING_PAUSED,INVALID_PARAMETER,TRANSIENT_FAILURE,FAILED',
  ],
  ['Unknown', 'UNKNOWN'],
  ['Suppressed', 'SUPPRESSED'],
  ['Canceled', 'CANCELED'],
];
const DELIVERY_FILTERS = [
  ['Any delivery', ''],
  ['Delivered', 'DELIVERED'],
  ['Bounced', 'BOUNCED'],
  ['Complained', 'COMPLAINED'],
  ['Delayed', 'DELAYED'],
  ['Rejected', 'REJECTED'],
  ['Rendering failure', 'RENDERING_FAILURE'],
];

const app = document.getElementById('app');
const liveRegion = document.getElementById('live');
/** What the current view holds open (timers, event source); closed when the view changes. */
const teardown = [];

/* ------------------------------------------------------------------ DOM helpers (text only) */

/** An element with attributes (set as properties or attributes, never parsed) and children (strings become text). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the element's children (strings become text; null, undefined and false are skipped). */
function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

function announce(text) {
  liveRegion.textContent = text;
}

/* ------------------------------------------------------------------ API */

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, options = {}) {
  const res = await fetch(new URL(path, API), {
    credentials: 'same-origin',
    headers: { accept: 'application/json', 'x-requested-with': 'express-bulk-email-dashboard' },
    ...options,
  });
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: a proxy or the app answered before the router
  }
  if (!res.ok || !body || body.success !== true) {
    const error = body?.error;
    throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? `HTTP ${res.status}`);
  }
  return body.data;
}

function jobPath(id, tail = '') {
  return `${encodeURIComponent(id)}${tail}`;
}

/* ------------------------------------------------------------------ formatting */

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : timeFormat.format(date);
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.round((s % 86_400) / 3600)} h`;
}

function done(job) {
  return Math.max(0, (job.entries ?? 0) - (job.counts?.pending ?? 0));
}

/** When the job should finish: the router's estimate, else extrapolated from its progress so far; '' if unknown. */
function eta(job) {
  if (FINAL.has(job.status)) return '';
  if (job.status === 'paused') return 'paused';
  const estimate = job.estimated_completion_at ? Date.parse(job.estimated_completion_at) : Number.NaN;
  if (Number.isFinite(estimate)) {
    return estimate > Date.now()
      ? `${when(job.estimated_completion_at)} (in ${duration(estimate - Date.now())})`
      : 'soon';
  }
  const start = Date.parse(job.send_at ?? job.created_at);
  const finished = done(job);
  const elapsed = Date.now() - start;
  if (!finished || !(elapsed > 0)) return '';
  const left = ((job.entries - finished) * elapsed) / finished;
  return `in about ${duration(left)}`;
}

function badge(text, kind = text) {
  return h('span', { class: `badge ${kind}` }, text);
}

function errorText(error) {
  if (!error) return '';
  if (typeof error === 'string') return error;
  return [error.code, error.message].filter(Boolean).join(': ');
}

function recipientsOf(result) {
  if (Array.isArray(result.recipients)) return result.recipients.join(', ');
  return '';
}

/* ------------------------------------------------------------------ views */

function showError(err, where = app) {
  const text =
    err instanceof ApiError && err.status === 401
      ? 'You are not signed in (the API answered 401). Sign in to the app, then reload this page.'
      : `${err instanceof ApiError ? `${err.code}: ` : ''}${err.message}`;
  where.prepend(h('p', { class: 'notice error', role: 'alert' }, text));
}

function countsList(job) {
  const c = job.counts ?? {};
  const items = [
    ['Sent', c.sent],
    ['Failed', c.failed],
    ['Pending', c.pending],
    ['Canceled', c.canceled],
    ['Suppressed', c.suppressed],
    ['Unknown', c.unknown],
    ['Delivered', c.delivered],
    ['Bounced', c.bounced],
    ['Complained', c.complained],
  ].filter(([, n]) => typeof n === 'number');
  return h(
    'dl',
    { class: 'counts' },
    items.map(([label, n]) => h('div', { 'data-count': label.toLowerCase() }, h('dt', null, label), h('dd', null, n))),
  );
}

function progressOf(job) {
  const finished = done(job);
  return h('progress', {
    max: Math.max(1, job.entries ?? 0),
    value: finished,
    'aria-label': `${finished} of ${job.entries} entries done`,
  });
}

/** The list of the caller's jobs, newest first, with a status filter and "load more". */
async function listView(params) {
  const status = params.get('status') ?? '';
  const filter = h(
    'select',
    {
      'aria-label': 'Job status',
      onchange: (e) => navigate(e.target.value ? `#/?status=${encodeURIComponent(e.target.value)}` : '#/'),
    },
    h('option', { value: '' }, 'All jobs'),
    JOB_STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)),
  );
  const tbody = h('tbody');
  const thead = h('thead');
  const table = h('table', null, thead, tbody);
  const more = h('div', { class: 'more' });
  const empty = h('p', { class: 'muted', hidden: true }, 'No jobs yet.');
  fill(
    app,
    h('div', { class: 'toolbar' }, filter, h('button', { onclick: () => render() }, 'Refresh')),
    table,
    empty,
    more,
  );

  let cursor = null;
  let jobs = [];
  async function load(reset) {
    const query = new URLSearchParams({ limit: '50' });
    if (status) query.set('status', status);
    if (!reset && cursor) query.set('cursor', cursor);
    const data = await api(`?${query}`);
    jobs = reset ? data.jobs : jobs.concat(data.jobs);
    cursor = data.next_cursor;
    // The delivery column shows when SES events are on (jobs then carry delivered/bounced/complained counts).
    const withDelivery = jobs.some(hasDelivery);
    const columns = ['Job', 'Created', 'Status', 'Progress', 'Sent', 'Failed', 'Pending'];
    columns.push(...(withDelivery ? ['Delivery', 'ETA'] : ['ETA']));
    fill(
      thead,
      h(
        'tr',
        null,
        columns.map((t) => h('th', null, t)),
      ),
    );
    fill(
      tbody,
      jobs.map((j) => jobRow(j, withDelivery)),
    );
    empty.hidden = jobs.length > 0;
    fill(more, cursor ? h('button', { onclick: () => load(false).catch((e) => showError(e)) }, 'Load more') : null);
  }
  await load(true);
  // Unfinished jobs on screen: refresh the first page while the page is visible.
  const timer = setInterval(() => {
    if (document.hidden || cursor || !jobs.some((j) => !FINAL.has(j.status))) return;
    load(true).catch(() => {});
  }, REFRESH_MS);
  teardown.push(() => clearInterval(timer));
}

function hasDelivery(job) {
  return ['delivered', 'bounced', 'complained'].some((k) => typeof job.counts?.[k] === 'number');
}

function deliveryText(job) {
  const c = job.counts ?? {};
  return hasDelivery(job)
    ? `${c.delivered ?? 0} delivered · ${c.bounced ?? 0} bounced · ${c.complained ?? 0} complained`
    : '';
}

function jobRow(job, withDelivery) {
  const c = job.counts ?? {};
  return h(
    'tr',
    { 'data-job': job.id },
    h('td', { 'data-label': 'Job' }, h('a', { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.id)),
    h('td', { 'data-label': 'Created' }, when(job.created_at)),
    h('td', { 'data-label': 'Status' }, badge(job.status)),
    h(
      'td',
      { 'data-label': 'Progress' },
      h(
        'div',
        { class: 'progress-cell' },
        progressOf(job),
        h('span', { class: 'muted' }, `${done(job)} / ${job.entries}`),
      ),
    ),
    h('td', { 'data-label': 'Sent', class: 'num' }, c.sent ?? ''),
    h('td', { 'data-label': 'Failed', class: 'num' }, c.failed ?? ''),
    h('td', { 'data-label': 'Pending', class: 'num' }, c.pending ?? ''),
    withDelivery ? h('td', { 'data-label': 'Delivery' }, deliveryText(job)) : null,
    h('td', { 'data-label': 'ETA' }, eta(job)),
  );
}

/** One job: its state (live over SSE), its controls, and its results with filters. */
async function jobView(id, params) {
  const status = params.get('status') ?? '';
  const delivery = params.get('delivery') ?? '';
  const head = h('section', { class: 'card', 'aria-live': 'polite' });
  const controls = h('div', { class: 'toolbar' });
  const notices = h('div');
  const resultsBody = h('tbody');
  const more = h('div', { class: 'more' });
  const deliveryFilter = h(
    'select',
    { 'aria-label': 'Delivery', onchange: () => setFilter(), hidden: true },
    DELIVERY_FILTERS.map(([label, value]) => h('option', { value, selected: value === delivery }, label)),
  );
  const statusFilter = h(
    'select',
    { 'aria-label': 'Result status', onchange: () => setFilter() },
    RESULT_FILTERS.map(([label, value]) => h('option', { value, selected: value === status }, label)),
  );
  function setFilter() {
    const query = new URLSearchParams();
    if (statusFilter.value) query.set('status', statusFilter.value);
    if (deliveryFilter.value) query.set('delivery', deliveryFilter.value);
    navigate(`#/jobs/${encodeURIComponent(id)}${query.size ? `?${query}` : ''}`);
  }
  fill(
    app,
    h('p', null, h('a', { href: '#/' }, '← All jobs')),
    notices,
    head,
    controls,
    h('h3', null, 'Results'),
    h(
      'div',
      { class: 'toolbar' },
      statusFilter,
      deliveryFilter,
      h('button', { onclick: () => loadResults(true).catch((e) => showError(e, notices)) }, 'Refresh results'),
    ),
    h(
      'table',
      { id: 'results' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['#', 'Recipients', 'Status', 'Delivery', 'Message id', 'Error', 'Attempts'].map((t) => h('th', null, t)),
        ),
      ),
      resultsBody,
    ),
    more,
  );

  let job = null;
  let confirmCancel = false;
  function drawJob(next) {
    job = next;
    deliveryFilter.hidden = !hasDelivery(job) && !delivery;
    const facts = [
      ['Created', when(job.created_at)],
      ['Scheduled for', when(job.send_at)],
      ['Completed', when(job.completed_at)],
      ['Recipients', job.recipients],
      ['Send rate', job.send_rate ? `${job.send_rate}/s` : ''],
      ['ETA', eta(job)],
    ].filter(([, v]) => v !== '' && v !== undefined && v !== null);
    fill(
      head,
      h(
        'div',
        { class: 'job-head' },
        h('h2', null, job.id),
        badge(job.status),
        job.paused_reason
          ? h(
              'span',
              { class: 'muted' },
              `paused by ${job.paused_reason === 'USER' ? 'a user' : 'the reputation guard'}`,
            )
          : null,
      ),
      job.error ? h('p', { class: 'notice error', 'data-job-error': '' }, errorText(job.error)) : null,
      h(
        'p',
        null,
        progressOf(job),
        h('span', { class: 'muted', 'data-progress': '' }, `${done(job)} of ${job.entries} entries done`),
      ),
      h('p', { class: 'muted' }, facts.map(([k, v]) => `${k}: ${v}`).join(' · ')),
      countsList(job),
    );
    drawControls();
  }
  function drawControls() {
    const finished = FINAL.has(job.status);
    const act = (action) => async () => {
      for (const b of controls.querySelectorAll('button')) b.disabled = true;
      try {
        drawJob(await api(jobPath(id, `/${action}`), { method: 'POST' }));
        announce(`Job ${action} requested`);
      } catch (err) {
        showError(err, notices);
        drawControls();
      }
    };
    fill(
      controls,
      ['queued', 'sending', 'scheduled'].includes(job.status) ? h('button', { onclick: act('pause') }, 'Pause') : null,
      job.status === 'paused' ? h('button', { onclick: act('resume') }, 'Resume') : null,
      finished
        ? null
        : confirmCancel
          ? h('button', { class: 'danger', onclick: act('cancel') }, 'Confirm cancel')
          : h(
              'button',
              {
                class: 'danger',
                onclick: () => {
                  confirmCancel = true;
                  drawControls();
                  setTimeout(() => {
                    confirmCancel = false;
                    if (job) drawControls();
                  }, 5_000);
                },
              },
              'Cancel job',
            ),
    );
  }

  let cursor = null;
  async function loadResults(reset) {
    const query = new URLSearchParams({ limit: '100' });
    if (status) query.set('status', status);
    if (delivery) query.set('delivery', delivery);
    if (!reset && cursor) query.set('cursor', cursor);
    const data = await api(`${jobPath(id, '/results')}?${query}`);
    if (reset) fill(resultsBody);
    resultsBody.append(...data.results.map(resultRow));
    cursor = data.next_cursor;
    fill(
      more,
      cursor
        ? h('button', { onclick: () => loadResults(false).catch((e) => showError(e, notices)) }, 'Load more')
        : null,
    );
    if (reset && data.results.length === 0) {
      resultsBody.append(h('tr', null, h('td', { colspan: 7, class: 'muted' }, 'No results match.')));
    }
  }

  drawJob(await api(jobPath(id)));
  await loadResults(true);
  if (!FINAL.has(job.status)) follow();

  /** Live updates: the event stream; if it cannot be had, poll. */
  function follow() {
    const source = new EventSource(new URL(jobPath(id, '/events'), API));
    const onState = (e) => {
      try {
        drawJob(JSON.parse(e.data));
      } catch {
        // a frame that is not a job: ignore it
      }
    };
    source.addEventListener('progress', onState);
    source.addEventListener('done', (e) => {
      onState(e);
      source.close();
      announce(`Job ${job.status}`);
      loadResults(true).catch((err) => showError(err, notices));
    });
    source.addEventListener('error', () => {
      if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself, with Last-Event-ID
      const timer = setInterval(async () => {
        if (document.hidden) return;
        try {
          drawJob(await api(jobPath(id)));
          if (FINAL.has(job.status)) {
            clearInterval(timer);
            await loadResults(true);
          }
        } catch {
          // keep trying
        }
      }, REFRESH_MS);
      teardown.push(() => clearInterval(timer));
    });
    teardown.push(() => source.close());
  }
}

function resultRow(result) {
  return h(
    'tr',
    { 'data-index': result.index },
    h('td', { 'data-label': '#', class: 'num' }, result.index),
    h('td', { 'data-label': 'Recipients' }, recipientsOf(result)),
    h('td', { 'data-label': 'Status' }, badge(result.status)),
    h('td', { 'data-label': 'Delivery' }, result.delivery?.status ? badge(result.delivery.status) : ''),
    h('td', { 'data-label': 'Message id' }, result.message_id ?? ''),
    h('td', { 'data-label': 'Error' }, errorText(result.error)),
    h('td', { 'data-label': 'Attempts', class: 'num' }, result.attempts ?? ''),
  );
}

/* ------------------------------------------------------------------ routing (#/ and #/jobs/<id>?filters) */

function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function render() {
  for (const stop of teardown.splice(0)) stop();
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = hash.split('?');
  const params = new URLSearchParams(search);
  const match = /^\/jobs\/([^/]+)$/.exec(path);
  try {
    if (match) await jobView(decodeURIComponent(match[1]), params);
    else await listView(params);
  } catch (err) {
    showError(err);
  }
}

window.addEventListener('hashchange', render);
render();
