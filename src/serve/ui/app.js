/* hark web UI — vanilla ES2020, no dependencies, no external requests.
 *
 * Security rule for this file: every string that comes from the API (mentions, query names,
 * alert summaries, error messages …) is attacker-controlled. It is inserted only with
 * textContent / createTextNode, or setAttribute on inert attributes (title, datetime, data-*,
 * aria-*). URLs become links only when their protocol is http: or https:. Never innerHTML.
 */
(() => {
  'use strict';

  const SVGNS = 'http://www.w3.org/2000/svg';
  const PAGE_SIZE = 20;
  const EXPORT_LIMIT = 10000;
  const LABELS = ['negative', 'neutral', 'positive'];
  const $ = (id) => document.getElementById(id);
  // The deployment's name (white-label `[server] brand_name`), as the server wrote it into
  // the page title.
  const BRAND = document.title || 'hark';

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function svgTitle(parent, text) {
    parent.appendChild(svg('title', null, text));
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function str(v) {
    return v === undefined || v === null ? '' : String(v);
  }

  function num(v) {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }

  const nfInt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const nfCompact = (() => {
    try {
      return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
    } catch (_) {
      return nfInt;
    }
  })();
  const fmtInt = (v) => nfInt.format(num(v));
  const fmtCompact = (v) => nfCompact.format(num(v));
  const fmtPct = (v) => (num(v) * 100).toFixed(1) + '%';
  const fmtSigned = (v) => {
    const n = num(v);
    return (n > 0 ? '+' : n < 0 ? '\u2212' : '') + Math.abs(n).toFixed(2);
  };

  const dtFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  function timeEl(iso) {
    const t = el('time');
    const s = str(iso);
    const d = new Date(s);
    if (s && !Number.isNaN(d.getTime())) {
      t.setAttribute('datetime', d.toISOString());
      t.setAttribute('title', d.toISOString());
      t.textContent = dtFmt.format(d);
    } else {
      t.textContent = s || 'unknown time';
    }
    return t;
  }

  /** A link when `u` is an absolute http(s) URL, plain text otherwise. */
  function safeLink(u, text) {
    const s = str(u);
    let url = null;
    try {
      url = new URL(s);
    } catch (_) {
      url = null;
    }
    if (url && (url.protocol === 'http:' || url.protocol === 'https:')) {
      const a = el('a', 'ext', text || url.hostname || url.href);
      a.setAttribute('href', url.href);
      a.setAttribute('target', '_blank');
      a.setAttribute('rel', 'noopener noreferrer nofollow ugc');
      a.setAttribute('title', url.href);
      return a;
    }
    const span = el('span', 'unsafe-url');
    if (s) {
      span.textContent = s;
      span.setAttribute('title', 'Not an http(s) link; shown as text');
    }
    return span;
  }

  // ---------------------------------------------------------------- dates

  const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

  function isoDay(d) {
    return d.toISOString().slice(0, 10);
  }

  function addDays(day, n) {
    const d = new Date(day + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return isoDay(d);
  }

  /** Page `since` (a UTC date) → API value. Non-date values (7d, RFC 3339) pass through. */
  const apiSince = (v) => str(v);

  /** Page `until` is an inclusive date; the API's `until` is exclusive → next day. */
  function apiUntil(v) {
    const s = str(v);
    return DATE_RE.test(s) ? addDays(s, 1) : s;
  }

  // ---------------------------------------------------------------- token & API

  let token = '';
  (function initToken() {
    const h = location.hash.replace(/^#/, '');
    const fromHash = h ? new URLSearchParams(h).get('token') : null;
    if (fromHash) {
      token = fromHash;
      try {
        localStorage.setItem('hark_token', fromHash);
        // Stored: keep it out of the address bar and history.
        history.replaceState(history.state, '', location.pathname + location.search);
      } catch (_) {
        /* storage unavailable: keep the fragment */
      }
      return;
    }
    try {
      token = localStorage.getItem('hark_token') || '';
    } catch (_) {
      token = '';
    }
  })();

  class ApiError extends Error {
    constructor(status, body) {
      super(body && body.error ? String(body.error) : 'HTTP ' + status);
      this.status = status;
      this.parameter = body && body.parameter ? String(body.parameter) : '';
      this.column = body && Number.isInteger(body.column) ? body.column : null;
    }
  }

  function qs(params) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && String(v) !== '') p.set(k, String(v));
    }
    const s = p.toString();
    return s ? '?' + s : '';
  }

  async function api(path, params) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    let res;
    try {
      res = await fetch(path + qs(params || {}), { headers, credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, { error: 'Network error: ' + (e && e.message ? e.message : e) });
    }
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (_) {
      body = null;
    }
    if (!res.ok) {
      if (res.status === 401) showAuth(body && body.error);
      const b = body && typeof body === 'object' && !Array.isArray(body) ? body : {};
      if (!b.error) b.error = 'HTTP ' + res.status + (res.statusText ? ' ' + res.statusText : '');
      throw new ApiError(res.status, b);
    }
    if (body === null) throw new ApiError(res.status, { error: 'The server sent no valid JSON' });
    return body;
  }

  // A write (triage): a JSON body, so that no cross-site form can send it.
  async function apiSend(method, path, body) {
    const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    // A logged-in session's writes carry its CSRF token (kept for this tab only).
    let csrf = '';
    try {
      csrf = sessionStorage.getItem('hark_csrf') || '';
    } catch (_) {
      csrf = '';
    }
    if (csrf) headers['X-CSRF-Token'] = csrf;
    let res;
    try {
      res = await fetch(path, { method, headers, body: JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, { error: 'Network error: ' + (e && e.message ? e.message : e) });
    }
    const text = await res.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch (_) {
      parsed = null;
    }
    if (!res.ok) {
      if (res.status === 401) showAuth(parsed && parsed.error);
      const b = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
      if (!b.error) b.error = 'HTTP ' + res.status;
      throw new ApiError(res.status, b);
    }
    return parsed;
  }

  function showAuth(msg) {
    $('auth').hidden = false;
    $('auth-msg').textContent = token
      ? 'The saved access token was refused' + (msg ? ' (' + msg + ')' : '') + '. Log in or enter a valid one.'
      : 'This server needs you to log in.';
  }

  let queriesPromise = null;
  function getQueries() {
    if (!queriesPromise) {
      queriesPromise = api('/api/queries').then((list) => (Array.isArray(list) ? list : []));
      queriesPromise.catch(() => {
        queriesPromise = null;
      });
    }
    return queriesPromise;
  }

  function fillQuerySelect(select, queries, value, anyLabel) {
    clear(select);
    if (anyLabel) {
      const o = el('option', null, anyLabel);
      o.value = '';
      select.appendChild(o);
    }
    const names = (queries || []).map((q) => str(q && q.name)).filter(Boolean);
    if (value && !names.includes(value)) names.push(value); // keep an unknown value visible
    for (const n of names) {
      const o = el('option', null, n);
      o.value = n;
      select.appendChild(o);
    }
    select.value = value || '';
  }

  // ---------------------------------------------------------------- highlighting

  const FOLD_EXTRA = { 'ß': 'ss', 'æ': 'ae', 'œ': 'oe', 'ø': 'o', 'ł': 'l', 'đ': 'd', 'ð': 'd', 'þ': 'th', 'ı': 'i' };

  /** Case- and diacritics-folded text plus, per folded UTF-16 unit, its source index. */
  function fold(s) {
    let out = '';
    const map = [];
    let i = 0;
    for (const ch of s) {
      let f = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
      if (FOLD_EXTRA[f] !== undefined) f = FOLD_EXTRA[f];
      for (let k = 0; k < f.length; k++) map.push(i);
      out += f;
      i += ch.length;
    }
    map.push(i);
    return { text: out, map };
  }

  const foldPlain = (s) => fold(s).text;
  const escRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const WORD = '[\\p{L}\\p{N}]';

  /**
   * The plain (positive) terms of a hark query: words, phrases, #tags, @handles, prefixes and
   * title:/text: values. Operators, other fields and everything under NOT / `-` are skipped.
   */
  function queryTerms(q) {
    const s = str(q);
    const toks = [];
    let i = 0;
    const readQuoted = () => {
      let v = '';
      i++; // opening quote
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        v += s[i++];
      }
      i++; // closing quote
      return v;
    };
    while (i < s.length) {
      const c = s[i];
      if (/\s/.test(c)) {
        i++;
      } else if (c === '(' || c === ')') {
        toks.push({ t: c });
        i++;
      } else if (c === '-' && i + 1 < s.length && !/\s/.test(s[i + 1])) {
        toks.push({ t: 'NOT' });
        i++;
      } else if (c === '"') {
        toks.push({ t: 'term', v: readQuoted(), phrase: true });
      } else {
        let w = '';
        while (i < s.length && !/[\s()"]/.test(s[i])) w += s[i++];
        const fm = /^([A-Za-z_][A-Za-z0-9_]*):(.*)$/.exec(w);
        if (fm) {
          let v = fm[2];
          if (!v && s[i] === '"') v = readQuoted();
          toks.push({ t: 'field', f: fm[1].toLowerCase(), v });
        } else if (w === 'AND' || w === 'OR' || /^NEAR\/\d*$/.test(w)) {
          /* operator */
        } else if (w === 'NOT') {
          toks.push({ t: 'NOT' });
        } else {
          toks.push({ t: 'term', v: w });
        }
      }
    }
    const terms = [];
    for (let k = 0; k < toks.length; k++) {
      const tk = toks[k];
      if (tk.t === 'NOT') {
        // skip the negated operand (a term or a whole group)
        k++;
        if (toks[k] && toks[k].t === '(') {
          let depth = 0;
          for (; k < toks.length; k++) {
            if (toks[k].t === '(') depth++;
            else if (toks[k].t === ')' && --depth === 0) break;
          }
        }
      } else if (tk.t === 'term') {
        terms.push(tk.v);
      } else if (tk.t === 'field' && (tk.f === 'title' || tk.f === 'text')) {
        terms.push(tk.v);
      }
    }
    return terms;
  }

  /** Compiles terms into folded-text regexes (word boundaries as hark's matcher uses them). */
  function termMatchers(terms) {
    const out = [];
    const seen = new Set();
    for (const raw of terms) {
      let t = foldPlain(str(raw)).trim();
      let prefix = false;
      if (t.endsWith('*')) {
        prefix = true;
        t = t.replace(/\*+$/, '');
      }
      let sigil = '';
      if (/^[#@]/.test(t)) {
        sigil = t[0];
        t = t.slice(1);
      }
      const words = t.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
      if (!words.length) continue;
      const key = sigil + words.join(' ') + (prefix ? '*' : '');
      if (seen.has(key)) continue;
      seen.add(key);
      let src = (sigil ? escRe(sigil) : '') + words.map(escRe).join('[^\\p{L}\\p{N}]+');
      src = '(?<!' + WORD + ')' + src + (prefix ? WORD + '*' : '(?!' + WORD + ')');
      try {
        out.push(new RegExp(src, 'gu'));
      } catch (_) {
        /* ignore */
      }
    }
    return out;
  }

  /** Appends `text` to `parent`, wrapping matches in <mark> (text nodes only). */
  function appendHighlighted(parent, text, matchers) {
    const s = str(text);
    if (!matchers || !matchers.length || !s) {
      parent.appendChild(document.createTextNode(s));
      return;
    }
    const f = fold(s);
    const ranges = [];
    for (const re of matchers) {
      re.lastIndex = 0;
      let m;
      while ((m = re.exec(f.text)) !== null) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        const a = f.map[m.index];
        let e = m.index + m[0].length;
        while (e < f.map.length - 1 && f.map[e] === f.map[e - 1]) e++;
        ranges.push([a, f.map[e]]);
      }
    }
    ranges.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
    let pos = 0;
    for (const [a, b] of ranges) {
      if (b <= pos) continue;
      const start = Math.max(a, pos);
      if (start > pos) parent.appendChild(document.createTextNode(s.slice(pos, start)));
      parent.appendChild(el('mark', null, s.slice(start, b)));
      pos = b;
    }
    if (pos < s.length) parent.appendChild(document.createTextNode(s.slice(pos)));
  }

  // ---------------------------------------------------------------- mention rendering

  function sentimentBadge(sent) {
    const label = sent && LABELS.includes(sent.label) ? sent.label : 'unknown';
    const b = el('span', 'badge sent-' + label);
    let text = label;
    if (sent && sent.score !== undefined && sent.score !== null && Number.isFinite(Number(sent.score))) {
      text += ' ' + fmtSigned(sent.score);
    }
    b.textContent = text;
    if (sent && sent.model) b.setAttribute('title', 'Sentiment model: ' + str(sent.model));
    return b;
  }

  function metaItem(list, cls, label, content) {
    const li = el('li', cls);
    if (label) li.appendChild(el('span', 'k', label));
    if (typeof content === 'string') li.appendChild(el('bdi', 'v', content));
    else li.appendChild(content);
    list.appendChild(li);
    return li;
  }

  function mentionItem(m, matchers, compact) {
    m = m && typeof m === 'object' ? m : {};
    const li = el('li', 'mention');
    li.setAttribute('data-id', str(m.id));
    const label = m.sentiment && LABELS.includes(m.sentiment.label) ? m.sentiment.label : 'unknown';
    li.classList.add('is-' + label);

    const head = el('div', 'mention-head');
    head.appendChild(sentimentBadge(m.sentiment));
    const src = el('span', 'source');
    src.appendChild(el('bdi', null, str(m.source) || str(m.source_kind) || 'unknown source'));
    if (m.source_kind && m.source_kind !== m.source) src.setAttribute('title', 'Kind: ' + str(m.source_kind));
    head.appendChild(src);
    head.appendChild(timeEl(m.published_at));
    li.appendChild(head);

    if (m.title) {
      const h = el(compact ? 'h3' : 'h2', 'mention-title');
      h.setAttribute('dir', 'auto');
      appendHighlighted(h, m.title, matchers);
      li.appendChild(h);
    }
    const p = el('p', 'mention-text');
    p.setAttribute('dir', 'auto');
    appendHighlighted(p, m.text, matchers);
    li.appendChild(p);

    const meta = el('ul', 'meta');
    meta.setAttribute('aria-label', 'Details');
    if (m.author) metaItem(meta, 'author', 'by ', str(m.author));
    // A review's stars (1–5), as text and for screen readers.
    const stars = m.engagement && Number.isInteger(m.engagement.rating) ? m.engagement.rating : null;
    if (stars !== null && stars >= 1 && stars <= 5) {
      const r = metaItem(meta, 'rating', null, '★'.repeat(stars) + '☆'.repeat(5 - stars));
      r.setAttribute('aria-label', stars + ' of 5 stars');
      r.setAttribute('title', stars + ' of 5 stars');
    }
    const reachLi = metaItem(meta, 'reach', 'reach ', fmtCompact(m.reach));
    const e = m.engagement && typeof m.engagement === 'object' ? m.engagement : {};
    const eng = ['likes', 'shares', 'comments', 'views', 'followers']
      .filter((k) => e[k] !== undefined && e[k] !== null)
      .map((k) => fmtInt(e[k]) + ' ' + k);
    reachLi.setAttribute('title', fmtInt(m.reach) + (eng.length ? ' (' + eng.join(', ') + ')' : ''));
    if (!compact && eng.length) metaItem(meta, 'engagement', null, eng.join(' · '));
    if (m.lang) metaItem(meta, 'lang', 'lang ', str(m.lang));
    const linkLi = el('li', 'link');
    linkLi.appendChild(safeLink(m.url, 'Open original'));
    meta.appendChild(linkLi);
    li.appendChild(meta);
    if (!compact) li.appendChild(triageRow(m));
    return li;
  }

  // Triage controls of one mention in the search results: select, status, sentiment
  // correction, tags, "not about us". Every change is a PATCH; the results then reload, so
  // counts follow.
  function triageRow(m) {
    const t = m.triage && typeof m.triage === 'object' ? m.triage : {};
    const id = str(m.id);
    const row = el('div', 'triage');
    const pick = el('input', 'select');
    pick.type = 'checkbox';
    pick.setAttribute('aria-label', 'Select');
    pick.dataset.id = id;
    pick.addEventListener('change', updateBulk);
    row.appendChild(pick);

    const status = el('select', 'set-status');
    status.setAttribute('aria-label', 'Status');
    for (const s of STATUSES) {
      const o = el('option', null, s.replace('_', ' '));
      o.value = s;
      status.appendChild(o);
    }
    status.value = STATUSES.includes(t.status) ? t.status : 'new';
    status.addEventListener('change', () => triage([id], { status: status.value }));
    row.appendChild(status);

    const sent = el('select', 'set-sentiment');
    sent.setAttribute('aria-label', 'Correct the sentiment');
    for (const [v, txt] of [['', 'model'], ['negative', 'negative'], ['neutral', 'neutral'], ['positive', 'positive']]) {
      const o = el('option', null, txt);
      o.value = v;
      sent.appendChild(o);
    }
    sent.value = LABELS.includes(t.sentiment_override) ? t.sentiment_override : '';
    sent.addEventListener('change', () => triage([id], { sentiment: sent.value || null }));
    row.appendChild(sent);

    const tags = el('span', 'tags');
    for (const tag of Array.isArray(t.tags) ? t.tags : []) {
      const chip = el('button', 'tag', '#' + str(tag) + ' ×');
      chip.type = 'button';
      chip.setAttribute('aria-label', 'Remove tag ' + str(tag));
      chip.addEventListener('click', () => triage([id], { remove_tags: [str(tag)] }));
      tags.appendChild(chip);
    }
    row.appendChild(tags);
    const tagIn = el('input', 'add-tag');
    tagIn.type = 'text';
    tagIn.placeholder = 'tag';
    tagIn.setAttribute('aria-label', 'Add a tag');
    tagIn.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && tagIn.value.trim()) {
        ev.preventDefault();
        triage([id], { add_tags: [tagIn.value.trim()] });
      }
    });
    row.appendChild(tagIn);

    const irr = el('button', 'set-irrelevant secondary', t.irrelevant ? 'About us after all' : 'Not about us');
    irr.type = 'button';
    irr.addEventListener('click', () => triage([id], { irrelevant: !t.irrelevant }));
    row.appendChild(irr);
    if (t.by) row.setAttribute('title', 'Last changed by ' + str(t.by) + (t.at ? ' at ' + str(t.at) : ''));
    return row;
  }

  // Saved searches: the list (to open one), "Save search" (the current filters under a
  // name), "Alert me" (the selected saved search becomes a keyword rule, or a volume rule
  // when it has no text).
  let savedList = [];
  async function loadSaved() {
    const sel = $('saved-select');
    try {
      const r = await api('/api/saved-searches');
      savedList = r && Array.isArray(r.saved) ? r.saved : [];
    } catch (_) {
      savedList = [];
    }
    const keep = sel.value;
    clear(sel);
    const first = el('option', null, 'Open…');
    first.value = '';
    sel.appendChild(first);
    for (const s of savedList) {
      const o = el('option', null, str(s.name) + (s.alert ? ' (alert)' : ''));
      o.value = str(s.name);
      sel.appendChild(o);
    }
    sel.value = savedList.some((s) => s.name === keep) ? keep : '';
    $('alert-me').disabled = !sel.value;
  }

  function savedMessage(text) {
    $('saved-msg').textContent = text;
  }

  function initSaved() {
    $('saved-select').addEventListener('change', () => {
      const s = savedList.find((x) => x.name === $('saved-select').value);
      $('alert-me').disabled = !s;
      if (s && s.params && typeof s.params === 'object') {
        const p = {};
        for (const k of SEARCH_KEYS) if (s.params[k]) p[k] = String(s.params[k]);
        navigate(pageLink('/search', p));
      }
    });
    $('save-search').addEventListener('click', async () => {
      const name = $('save-name').value.trim();
      if (!name) {
        savedMessage('Give the search a name first.');
        return;
      }
      const st = searchState();
      const search = {};
      for (const k of SEARCH_KEYS) if (st[k]) search[k] = st[k];
      try {
        await apiSend('POST', '/api/saved-searches', { name, search });
        $('save-name').value = '';
        savedMessage('Saved as “' + name + '”.');
        await loadSaved();
        $('saved-select').value = name;
        $('alert-me').disabled = false;
      } catch (e) {
        savedMessage('Could not save: ' + e.message);
      }
    });
    $('alert-me').addEventListener('click', async () => {
      const s = savedList.find((x) => x.name === $('saved-select').value);
      if (!s) return;
      const kind = s.params && s.params.q ? 'keyword' : 'volume';
      try {
        const r = await apiSend('POST', '/api/saved-searches/' + encodeURIComponent(s.name) + '/alert', { kind });
        savedMessage('Alert rule “' + str(r && r.rule) + '” created: hark run evaluates it from now on.');
        await loadSaved();
      } catch (e) {
        savedMessage('Could not create the alert: ' + e.message);
      }
    });
  }

  function drawActivity(list, entries) {
    clear(list);
    if (!entries.length) {
      list.appendChild(el('li', 'nodata', 'No changes yet.'));
      return;
    }
    for (const e of entries) {
      const li = el('li', null);
      li.appendChild(el('bdi', 'who', str(e.by) || 'someone'));
      const what = str(e.action).replace(/_/g, ' ') + (e.count ? ' ×' + fmtInt(e.count) : '') + (e.name ? ' “' + str(e.name) + '”' : '');
      li.appendChild(document.createTextNode(' ' + what + ' '));
      if (e.at) li.appendChild(timeEl(str(e.at)));
      list.appendChild(li);
    }
  }

  function selectedIds() {
    return [...document.querySelectorAll('#results input.select:checked')].map((c) => c.dataset.id);
  }

  function updateBulk() {
    const n = selectedIds().length;
    $('bulk').hidden = n === 0;
    $('bulk-count').textContent = n + ' selected';
  }

  async function triage(ids, change) {
    if (!ids.length) return;
    setBusy();
    const box = $('triage-error');
    try {
      if (ids.length === 1) await apiSend('PATCH', '/api/mentions/' + encodeURIComponent(ids[0]), change);
      else await apiSend('POST', '/api/mentions/bulk', Object.assign({ ids }, change));
      box.hidden = true;
      clear(box);
    } catch (e) {
      clear(box);
      box.hidden = false;
      box.appendChild(el('strong', null, 'Could not save: '));
      box.appendChild(document.createTextNode(e.message));
    }
    await renderSearch();
  }

  // ---------------------------------------------------------------- routing

  let renderSeq = 0;

  function route() {
    const p = location.pathname.replace(/\/+$/, '') || '/';
    return p === '/dashboard' ? 'dashboard' : 'search';
  }

  function setBusy() {
    document.body.dataset.ready = '0';
  }
  function setReady() {
    document.body.dataset.ready = '1';
  }

  function navigate(url, replace) {
    const next = new URL(url, location.href);
    const same = next.pathname + next.search === location.pathname + location.search;
    if (replace || same) history.replaceState(null, '', next.pathname + next.search);
    else history.pushState(null, '', next.pathname + next.search);
    render();
  }

  function render() {
    const r = route();
    $('page-search').hidden = r !== 'search';
    $('page-dashboard').hidden = r !== 'dashboard';
    for (const a of document.querySelectorAll('nav a[data-nav]')) {
      if (a.dataset.nav === r) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    setBusy();
    const p = r === 'dashboard' ? renderDashboard() : renderSearch();
    p.catch((e) => {
      // Last resort: never leave tests (or users) waiting.
      console.error(e);
      setReady();
    });
  }

  function pageLink(path, params) {
    return path + qs(params);
  }

  // ---------------------------------------------------------------- search page

  const SEARCH_KEYS = ['q', 'query', 'source', 'sentiment', 'lang', 'status', 'tag', 'irrelevant', 'since', 'until', 'sort'];
  const STATUSES = ['new', 'in_progress', 'handled'];

  function searchState() {
    const sp = new URLSearchParams(location.search);
    const st = {};
    for (const k of SEARCH_KEYS) st[k] = (sp.get(k) || '').trim();
    if (st.lang) st.lang = st.lang.toLowerCase();
    const off = parseInt(sp.get('offset') || '0', 10);
    st.offset = Number.isFinite(off) && off > 0 ? off : 0;
    return st;
  }

  function searchApiParams(st) {
    return {
      q: st.q,
      query: st.query,
      source: st.source,
      sentiment: st.sentiment,
      lang: st.lang,
      status: STATUSES.includes(st.status) ? st.status : '',
      tag: st.tag,
      irrelevant: st.irrelevant === 'true' ? 'true' : '',
      since: apiSince(st.since),
      until: apiUntil(st.until),
      sort: st.sort,
    };
  }

  function fillSearchForm(st) {
    $('q').value = st.q;
    $('filter-source').value = st.source;
    $('filter-sentiment').value = LABELS.includes(st.sentiment) ? st.sentiment : '';
    $('filter-lang').value = st.lang;
    $('filter-status').value = STATUSES.includes(st.status) ? st.status : '';
    $('filter-tag').value = st.tag;
    $('filter-irrelevant').value = st.irrelevant === 'true' ? 'true' : '';
    $('filter-since').value = DATE_RE.test(st.since) ? st.since : '';
    $('filter-until').value = DATE_RE.test(st.until) ? st.until : '';
    $('sort').value = ['newest', 'oldest', 'relevance', 'reach'].includes(st.sort) ? st.sort : 'newest';
    // #filter-query is filled once /api/queries answers; set it now so a reload keeps it
    const fq = $('filter-query');
    if (st.query && ![...fq.options].some((o) => o.value === st.query)) {
      const o = el('option', null, st.query);
      o.value = st.query;
      fq.appendChild(o);
    }
    fq.value = st.query;
  }

  function searchParamsFromForm() {
    const st = {
      q: $('q').value.trim(),
      query: $('filter-query').value,
      source: $('filter-source').value.trim(),
      sentiment: $('filter-sentiment').value,
      lang: $('filter-lang').value.trim().toLowerCase(),
      status: $('filter-status').value,
      tag: $('filter-tag').value.trim(),
      irrelevant: $('filter-irrelevant').value,
      since: $('filter-since').value,
      until: $('filter-until').value,
      sort: $('sort').value === 'newest' ? '' : $('sort').value,
    };
    // Keep a non-date since/until from the URL (e.g. since=7d) when the date box was left empty.
    const cur = searchState();
    if (!st.since && cur.since && !DATE_RE.test(cur.since)) st.since = cur.since;
    if (!st.until && cur.until && !DATE_RE.test(cur.until)) st.until = cur.until;
    return st;
  }

  function showError(box, err, fields) {
    clear(box);
    for (const f of Object.values(fields || {})) $(f).removeAttribute('aria-invalid');
    if (!err) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.appendChild(el('strong', null, err.status === 401 ? 'Not authorised: ' : 'Error: '));
    box.appendChild(document.createTextNode(err.message));
    const fid = fields && err.parameter ? fields[err.parameter] : null;
    if (fid && $(fid)) {
      $(fid).setAttribute('aria-invalid', 'true');
      const lbl = document.querySelector('label[for="' + fid + '"]');
      box.appendChild(el('span', 'param', ' (field: ' + (lbl ? lbl.textContent : err.parameter) + ')'));
    }
    if (err.parameter === 'q' && err.column && fields && fields.q) {
      // Show the query with a caret under the offending (1-based, character) column.
      const chars = Array.from($(fields.q).value);
      const col = Math.min(Math.max(err.column, 1), chars.length + 1);
      const pre = el('pre', 'caret');
      pre.appendChild(document.createTextNode(chars.join('') + '\n' + ' '.repeat(col - 1) + '^'));
      box.appendChild(pre);
    }
  }

  const SEARCH_FIELDS_MAP = {
    q: 'q',
    query: 'filter-query',
    source: 'filter-source',
    sentiment: 'filter-sentiment',
    lang: 'filter-lang',
    status: 'filter-status',
    tag: 'filter-tag',
    irrelevant: 'filter-irrelevant',
    since: 'filter-since',
    until: 'filter-until',
    sort: 'sort',
  };

  async function renderSearch() {
    const seq = ++renderSeq;
    const st = searchState();
    fillSearchForm(st);
    document.title = (st.q ? st.q + ' – ' : '') + 'Search – ' + BRAND;

    // CSV export: same filters, no paging; links cannot send headers, so the token rides along.
    const exp = Object.assign(searchApiParams(st), { format: 'csv', limit: EXPORT_LIMIT });
    if (token) exp.token = token;
    $('export-csv').setAttribute('href', '/api/search' + qs(exp));
    $('nav-dashboard').setAttribute('href', pageLink('/dashboard', st.query ? { query: st.query } : {}));

    const results = $('results');
    results.setAttribute('aria-busy', 'true');
    const queriesP = getQueries().catch(() => null);
    let data = null;
    let err = null;
    try {
      data = await api('/api/search', Object.assign(searchApiParams(st), { limit: PAGE_SIZE, offset: st.offset }));
    } catch (e) {
      err = e;
    }
    const queries = await queriesP;
    if (seq !== renderSeq) return;

    if (queries) fillQuerySelect($('filter-query'), queries, st.query, 'Any');
    showError($('error'), err, SEARCH_FIELDS_MAP);

    clear(results);
    results.removeAttribute('aria-busy');
    const mentions = data && Array.isArray(data.mentions) ? data.mentions : [];
    const total = data ? num(data.total) : 0;

    let terms = queryTerms(st.q);
    if (st.query && queries) {
      const sq = queries.find((x) => x && x.name === st.query);
      if (sq && Array.isArray(sq.search_terms)) terms = terms.concat(sq.search_terms.map(str));
    }
    const matchers = termMatchers(terms);
    for (const m of mentions) results.appendChild(mentionItem(m, matchers, false));
    updateBulk();

    const totalEl = $('total');
    const range = $('range');
    totalEl.setAttribute('data-total', String(total));
    if (err) {
      totalEl.textContent = '';
      range.textContent = '';
    } else if (!mentions.length) {
      totalEl.textContent = total > 0 ? 'No more results (' + fmtInt(total) + ' in total)' : 'No mentions match.';
      range.textContent = '';
    } else {
      const txt = fmtInt(st.offset + 1) + '–' + fmtInt(st.offset + mentions.length) + ' of ' + fmtInt(total);
      totalEl.textContent = txt;
      range.textContent = txt;
    }
    $('prev').closest('.pager').hidden = !!err || (st.offset === 0 && total <= mentions.length);
    $('prev').disabled = !!err || st.offset <= 0;
    $('next').disabled = !!err || st.offset + mentions.length >= total || !mentions.length;
    $('export-csv').classList.toggle('disabled', !!err);
    setReady();
  }

  function goSearch(st, offset) {
    const p = {};
    for (const k of SEARCH_KEYS) if (st[k]) p[k] = st[k];
    if (offset > 0) p.offset = offset;
    navigate(pageLink('/search', p));
  }

  function initSearch() {
    $('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      goSearch(searchParamsFromForm(), 0);
    });
    for (const id of ['filter-query', 'filter-sentiment', 'filter-status', 'filter-irrelevant', 'sort', 'filter-since', 'filter-until']) {
      $(id).addEventListener('change', () => {
        const f = $('search-form');
        if (f.checkValidity()) goSearch(searchParamsFromForm(), 0);
      });
    }
    $('reset-filters').addEventListener('click', () => {
      goSearch({ q: $('q').value.trim() }, 0);
    });
    const page = (delta) => {
      const st = searchState();
      const p = {};
      for (const k of SEARCH_KEYS) if (st[k]) p[k] = st[k];
      const off = Math.max(0, st.offset + delta);
      if (off > 0) p.offset = off;
      navigate(pageLink('/search', p));
      $('total').scrollIntoView({ block: 'nearest' });
    };
    initSaved();
    loadSaved();
    $('bulk-status').addEventListener('change', () => {
      const v = $('bulk-status').value;
      $('bulk-status').value = '';
      if (v) triage(selectedIds(), { status: v });
    });
    $('bulk-tag-add').addEventListener('click', () => {
      const v = $('bulk-tag').value.trim();
      if (v) triage(selectedIds(), { add_tags: [v] });
    });
    $('bulk-irrelevant').addEventListener('click', () => triage(selectedIds(), { irrelevant: true }));
    $('prev').addEventListener('click', () => page(-PAGE_SIZE));
    $('next').addEventListener('click', () => page(PAGE_SIZE));
  }

  // ---------------------------------------------------------------- dashboard

  function todayUtc() {
    return isoDay(new Date());
  }

  function dashState(queries) {
    const sp = new URLSearchParams(location.search);
    const st = {};
    // `query` absent → first configured query; present but empty → all mentions.
    st.query = sp.has('query') ? (sp.get('query') || '').trim() : (queries[0] && str(queries[0].name)) || '';
    st.until = (sp.get('until') || '').trim() || todayUtc();
    st.since = (sp.get('since') || '').trim() || addDays(DATE_RE.test(st.until) ? st.until : todayUtc(), -29);
    st.interval = sp.get('interval') === 'hour' ? 'hour' : 'day';
    return st;
  }

  function noData(container, text) {
    clear(container);
    container.appendChild(el('p', 'nodata', text || 'No data for this period.'));
  }

  function panelError(container, err) {
    clear(container);
    const p = el('p', 'panel-error', 'Could not load: ' + (err && err.message ? err.message : String(err)));
    p.setAttribute('role', 'status');
    container.appendChild(p);
  }

  /** A "nice" axis for [0, v]: step from {1, 2, 2.5, 5}×10^k, about 4 intervals. */
  function niceScale(v, integer) {
    if (!(v > 0)) return { max: integer ? 4 : 1, step: integer ? 1 : 0.25 };
    const raw = v / 4;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = mag * 10;
    for (const s of [1, 2, 2.5, 5, 10]) {
      if (s * mag >= raw && !(integer && !Number.isInteger(s * mag))) {
        step = s * mag;
        break;
      }
    }
    if (integer) step = Math.max(1, Math.round(step));
    return { max: Math.ceil(v / step - 1e-9) * step, step };
  }

  const dayLabel = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  const hourLabel = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  const bucketLabel = (t, interval) => (interval === 'hour' ? hourLabel : dayLabel).format(new Date(t));

  /** Shared frame: svg, scales over bucket time, axes. */
  function timeFrame(container, buckets, interval, label, yMin, yMax, yStep, yFmt, height) {
    clear(container);
    // Size the viewBox to the real width so text and strokes stay at their CSS pixel size.
    const W = Math.max(280, Math.round(container.clientWidth || 720));
    const H = height || 200;
    const m = { l: 44, r: 10, t: 14, b: 26 };
    const iw = W - m.l - m.r;
    const ih = H - m.t - m.b;
    const step = interval === 'hour' ? 3600e3 : 86400e3;
    const starts = buckets.map((b) => Date.parse(b.start));
    const t0 = Math.min(...starts);
    const t1 = Math.max(...starts) + step;
    const x = (t) => m.l + ((t - t0) / (t1 - t0)) * iw;
    const y = (v) => m.t + ih - ((v - yMin) / (yMax - yMin)) * ih;
    const root = svg('svg', {
      viewBox: '0 0 ' + W + ' ' + H,
      class: 'svgchart',
      role: 'img',
      'aria-label': label,
      preserveAspectRatio: 'xMidYMid meet',
    });
    svgTitle(root, label);
    const grid = svg('g', { class: 'grid', 'aria-hidden': 'true' });
    const ticks = Math.round((yMax - yMin) / yStep);
    for (let i = 0; i <= ticks; i++) {
      const v = yMin + yStep * i;
      const yy = y(v);
      grid.appendChild(svg('line', { x1: m.l, x2: m.l + iw, y1: yy, y2: yy, class: v === 0 ? 'zero' : '' }));
      grid.appendChild(svg('text', { x: m.l - 6, y: yy + 4, 'text-anchor': 'end', class: 'tick' }, yFmt(v)));
    }
    const nLabels = Math.max(1, Math.min(buckets.length, 7, Math.floor(iw / 75)));
    for (let i = 0; i < nLabels; i++) {
      const idx = nLabels === 1 ? 0 : Math.round((i * (buckets.length - 1)) / (nLabels - 1));
      const t = starts[idx];
      const xx = x(t) + (iw * step) / (t1 - t0) / 2;
      const anchor = i === 0 && nLabels > 1 ? 'start' : i === nLabels - 1 && nLabels > 1 ? 'end' : 'middle';
      grid.appendChild(svg('text', { x: xx, y: H - 8, 'text-anchor': anchor, class: 'tick' }, bucketLabel(t, interval)));
    }
    root.appendChild(grid);
    container.appendChild(root);
    const bw = (iw * step) / (t1 - t0);
    return { root, x, y, bw, m, iw, ih, W, H, starts, step, t0, t1 };
  }

  function validBuckets(stats) {
    const b = stats && Array.isArray(stats.buckets) ? stats.buckets : [];
    return b.filter((x) => x && !Number.isNaN(Date.parse(x.start)));
  }

  function drawVolume(container, stats, alerts, interval) {
    const buckets = validBuckets(stats);
    if (!buckets.length) {
      noData(container, 'No mentions in this period.');
      return;
    }
    const sc = niceScale(Math.max(...buckets.map((b) => Math.max(num(b.total), LABELS.reduce((s, l) => s + num(b[l]), 0)))), true);
    const f = timeFrame(container, buckets, interval, 'Mentions per ' + interval + ', stacked by sentiment', 0, sc.max, sc.step, fmtCompact, 240);
    const gap = Math.min(2, f.bw * 0.2);
    const bars = svg('g', { class: 'bars' });
    buckets.forEach((b, i) => {
      const x0 = f.x(f.starts[i]) + gap / 2;
      const w = Math.max(0.5, f.bw - gap);
      let acc = 0;
      const when = bucketLabel(f.starts[i], interval);
      for (const l of LABELS) {
        const n = num(b[l]);
        if (n <= 0) continue;
        const y1 = f.y(acc + n);
        const y0 = f.y(acc);
        const r = svg('rect', { class: 'bar bar-' + l, x: x0.toFixed(2), y: y1.toFixed(2), width: w.toFixed(2), height: Math.max(0.5, y0 - y1).toFixed(2) });
        r.setAttribute('data-label', l);
        svgTitle(r, when + ': ' + fmtInt(n) + ' ' + l + ' of ' + fmtInt(b.total));
        bars.appendChild(r);
        acc += n;
      }
    });
    f.root.appendChild(bars);
    const any = buckets.some((b) => num(b.total) > 0);
    if (!any) {
      f.root.appendChild(svg('text', { x: f.m.l + f.iw / 2, y: f.m.t + f.ih / 2, 'text-anchor': 'middle', class: 'nodata-svg' }, 'No mentions in this period'));
    }
    const marks = svg('g', { class: 'alert-markers' });
    for (const a of alerts || []) {
      const t = Date.parse(a && a.fired_at);
      if (Number.isNaN(t)) continue;
      const xx = Math.min(Math.max(f.x(t), f.m.l), f.m.l + f.iw);
      const g = svg('g', { class: 'alert-marker', tabindex: '0' });
      g.setAttribute('data-id', str(a.id));
      g.appendChild(svg('line', { x1: xx, x2: xx, y1: f.m.t, y2: f.m.t + f.ih }));
      g.appendChild(svg('path', { d: 'M' + (xx - 5) + ',' + (f.m.t - 2) + ' L' + (xx + 5) + ',' + (f.m.t - 2) + ' L' + xx + ',' + (f.m.t + 7) + ' Z' }));
      svgTitle(g, 'Alert ' + str(a.rule) + ' at ' + dtFmt.format(new Date(t)) + ': ' + str(a.summary || a.title));
      marks.appendChild(g);
    }
    f.root.appendChild(marks);
  }

  function drawNet(container, stats, interval) {
    const buckets = validBuckets(stats);
    if (!buckets.length || !buckets.some((b) => num(b.total) > 0)) {
      noData(container, 'No mentions in this period.');
      return;
    }
    const f = timeFrame(container, buckets, interval, 'Net sentiment per ' + interval + ': (positive − negative) / total', -1, 1, 0.5, (v) =>
      v === 0 ? '0' : fmtSigned(v).replace(/\.00$/, '').replace(/0$/, ''),
    );
    const line = svg('g', { class: 'netline' });
    let d = '';
    let pen = false;
    buckets.forEach((b, i) => {
      const total = num(b.total);
      if (total <= 0) {
        pen = false;
        return;
      }
      const v = (num(b.positive) - num(b.negative)) / total;
      const xx = f.x(f.starts[i]) + f.bw / 2;
      const yy = f.y(v);
      d += (pen ? ' L' : ' M') + xx.toFixed(2) + ',' + yy.toFixed(2);
      pen = true;
      const c = svg('circle', { cx: xx.toFixed(2), cy: yy.toFixed(2), r: buckets.length > 60 ? 1.5 : 3, class: 'pt ' + (v > 0.05 ? 'pos' : v < -0.05 ? 'neg' : 'neu') });
      svgTitle(c, bucketLabel(f.starts[i], interval) + ': net ' + fmtSigned(v) + ' (' + fmtInt(total) + ' mentions)');
      line.appendChild(c);
    });
    line.insertBefore(svg('path', { d: d.trim(), class: 'line' }), line.firstChild);
    f.root.appendChild(line);
  }

  function drawReach(container, stats, interval) {
    const buckets = validBuckets(stats);
    if (!buckets.length || !buckets.some((b) => num(b.reach) > 0)) {
      noData(container, 'No reach in this period.');
      return;
    }
    const sc = niceScale(Math.max(...buckets.map((b) => num(b.reach))), true);
    const f = timeFrame(container, buckets, interval, 'Reach per ' + interval, 0, sc.max, sc.step, fmtCompact);
    const gap = Math.min(2, f.bw * 0.2);
    const g = svg('g', { class: 'bars' });
    buckets.forEach((b, i) => {
      const n = num(b.reach);
      if (n <= 0) return;
      const y1 = f.y(n);
      const r = svg('rect', { class: 'bar bar-reach', x: (f.x(f.starts[i]) + gap / 2).toFixed(2), y: y1.toFixed(2), width: Math.max(0.5, f.bw - gap).toFixed(2), height: Math.max(0.5, f.y(0) - y1).toFixed(2) });
      svgTitle(r, bucketLabel(f.starts[i], interval) + ': reach ' + fmtInt(n));
      g.appendChild(r);
    });
    f.root.appendChild(g);
  }

  function drawSov(container, sov, current) {
    const rows = sov && Array.isArray(sov.queries) ? sov.queries : [];
    if (!rows.length) {
      noData(container, 'No queries configured.');
      return;
    }
    clear(container);
    const all = rows.reduce((s, r) => s + num(r && r.mentions), 0);
    for (const r of rows) {
      const row = el('div', 'sov-row');
      const name = str(r.name);
      row.setAttribute('data-query', name);
      if (name === current) row.classList.add('current');
      const label = el('div', 'sov-name');
      const a = el('a', null, name);
      a.setAttribute('href', pageLink('/dashboard', Object.assign(dashLinkParams(), { query: name })));
      a.setAttribute('data-internal', '1');
      label.appendChild(a);
      row.appendChild(label);
      const track = el('div', 'sov-track');
      track.setAttribute('role', 'img');
      const share = Math.max(0, Math.min(1, num(r.share)));
      const mentions = num(r.mentions);
      track.setAttribute(
        'aria-label',
        name + ': ' + fmtPct(share) + ' of mentions; ' + LABELS.map((l) => fmtInt(r[l]) + ' ' + l).join(', '),
      );
      const bar = el('div', 'sov-bar');
      bar.style.width = (share * 100).toFixed(2) + '%';
      for (const l of LABELS) {
        const n = num(r[l]);
        if (n <= 0 || mentions <= 0) continue;
        const seg = el('span', 'seg seg-' + l);
        seg.style.width = ((n / mentions) * 100).toFixed(2) + '%';
        seg.setAttribute('title', fmtInt(n) + ' ' + l);
        bar.appendChild(seg);
      }
      track.appendChild(bar);
      row.appendChild(track);
      const stats = el('div', 'sov-stats');
      stats.appendChild(el('span', 'share', fmtPct(share)));
      stats.appendChild(el('span', null, fmtInt(mentions) + ' mentions'));
      stats.appendChild(el('span', null, 'reach ' + fmtCompact(r.reach)));
      const net = el('span', 'net', 'net ' + fmtSigned(r.net_sentiment));
      net.classList.add(num(r.net_sentiment) > 0.05 ? 'pos' : num(r.net_sentiment) < -0.05 ? 'neg' : 'neu');
      stats.appendChild(net);
      row.appendChild(stats);
      container.appendChild(row);
    }
    if (all === 0) container.appendChild(el('p', 'nodata', 'No mentions for any query in this period.'));
  }

  function drawTop(container, rows, caption, linkSource, st) {
    if (!Array.isArray(rows) || !rows.length) {
      noData(container, 'No data for this period.');
      return;
    }
    clear(container);
    const table = el('table');
    table.appendChild(el('caption', 'visually-hidden', caption));
    const thead = el('thead');
    const hr = el('tr');
    for (const [h, c] of [['Name', ''], ['Mentions', 'num'], ['Reach', 'num']]) {
      const th = el('th', c, h);
      th.setAttribute('scope', 'col');
      hr.appendChild(th);
    }
    thead.appendChild(hr);
    table.appendChild(thead);
    const tb = el('tbody');
    for (const r of rows) {
      const tr = el('tr');
      const td = el('td', 'name');
      if (linkSource) {
        const a = el('a', null, str(r && r.name));
        a.setAttribute('href', pageLink('/search', { query: st.query, source: str(r && r.name), since: st.since, until: st.until }));
        a.setAttribute('data-internal', '1');
        td.appendChild(a);
      } else {
        td.appendChild(el('bdi', null, str(r && r.name)));
      }
      tr.appendChild(td);
      tr.appendChild(el('td', 'num', fmtInt(r && r.mentions)));
      const reach = el('td', 'num', fmtCompact(r && r.reach));
      reach.setAttribute('title', fmtInt(r && r.reach));
      tr.appendChild(reach);
      tb.appendChild(tr);
    }
    table.appendChild(tb);
    container.appendChild(table);
  }

  function drawAlerts(list, alerts) {
    clear(list);
    if (!Array.isArray(alerts) || !alerts.length) {
      const li = el('li', 'nodata', 'No alerts fired in this period.');
      list.appendChild(li);
      return;
    }
    for (const a of alerts) {
      const li = el('li', 'alert');
      li.setAttribute('data-id', str(a && a.id));
      const head = el('div', 'alert-head');
      head.appendChild(el('span', 'badge kind', str(a.kind).replace(/_/g, ' ') || 'alert'));
      head.appendChild(el('bdi', 'rule', str(a.rule)));
      head.appendChild(timeEl(a.fired_at));
      li.appendChild(head);
      const summary = el('p', 'summary', str(a.summary || a.title));
      summary.setAttribute('dir', 'auto');
      li.appendChild(summary);
      const facts = [];
      if (a.observed !== undefined && a.observed !== null) facts.push('observed ' + fmtInt(a.observed));
      if (a.expected !== undefined && a.expected !== null) facts.push('expected ' + num(a.expected).toFixed(1));
      if (Array.isArray(a.mentions)) facts.push(fmtInt(a.mentions.length) + ' sample mentions');
      if (facts.length) li.appendChild(el('p', 'facts', facts.join(' · ')));
      const drivers = Array.isArray(a.drivers) ? a.drivers : [];
      if (drivers.length) {
        // What the spike is about: terms most over-represented in the window (text nodes only).
        const p = el('p', 'drivers');
        p.appendChild(el('span', 'label', 'About: '));
        drivers.forEach((d, i) => {
          if (i) p.appendChild(document.createTextNode(', '));
          const t = el('bdi', 'driver', str(d && d.term));
          t.setAttribute('title', Math.round(num(d && d.share) * 100) + '% of the window\'s mentions');
          p.appendChild(t);
          p.appendChild(document.createTextNode(' (' + Math.round(num(d && d.share) * 100) + '%)'));
        });
        li.appendChild(p);
      }
      const by = [];
      if (a.driving_source && a.driving_source.name) by.push('source ' + str(a.driving_source.name));
      if (a.driving_author && a.driving_author.name) by.push('author ' + str(a.driving_author.name));
      if (by.length) {
        const p = el('p', 'driven-by', 'Driven by ' + by.join(', '));
        p.setAttribute('dir', 'auto');
        li.appendChild(p);
      }
      const dl = Array.isArray(a.deliveries) ? a.deliveries : [];
      if (dl.length) {
        const ul = el('ul', 'deliveries');
        ul.setAttribute('aria-label', 'Deliveries');
        for (const d of dl) {
          const state = str(d && d.state) || 'unknown';
          const dli = el('li', 'delivery state-' + state.replace(/[^a-z_-]/gi, ''));
          dli.appendChild(el('span', 'state', state));
          dli.appendChild(document.createTextNode(' '));
          dli.appendChild(el('bdi', 'channel', str(d && d.channel)));
          const n = num(d && d.attempts);
          dli.appendChild(document.createTextNode(' · ' + n + (n === 1 ? ' attempt' : ' attempts')));
          if (d && d.last_error) dli.appendChild(el('span', 'last-error', ' · ' + str(d.last_error)));
          ul.appendChild(dli);
        }
        li.appendChild(ul);
      }
      list.appendChild(li);
    }
  }

  function dashLinkParams() {
    const sp = new URLSearchParams(location.search);
    const p = {};
    for (const k of ['since', 'until', 'interval']) if (sp.get(k)) p[k] = sp.get(k);
    return p;
  }

  let lastCharts = null;
  function drawCharts() {
    const c = lastCharts;
    if (!c) return;
    c.width = $('chart-volume').clientWidth;
    drawVolume($('chart-volume'), c.stats, c.alerts, c.interval);
    drawNet($('chart-net'), c.stats, c.interval);
    drawReach($('chart-reach'), c.stats, c.interval);
  }

  const DASH_FIELDS_MAP = { query: 'dash-query', since: 'dash-since', until: 'dash-until', interval: 'dash-interval' };

  async function renderDashboard() {
    const seq = ++renderSeq;
    let queries = [];
    let qerr = null;
    try {
      queries = await getQueries();
    } catch (e) {
      qerr = e;
    }
    if (seq !== renderSeq) return;
    const st = dashState(queries);
    const sel = $('dash-query');
    fillQuerySelect(sel, queries, st.query, null);
    const all = el('option', null, 'All mentions');
    all.value = '';
    sel.appendChild(all);
    sel.value = st.query;
    $('dash-since').value = DATE_RE.test(st.since) ? st.since : '';
    $('dash-until').value = DATE_RE.test(st.until) ? st.until : '';
    $('dash-interval').value = st.interval;
    $('nav-search').setAttribute('href', pageLink('/search', st.query ? { query: st.query } : {}));
    document.title = (st.query || 'All mentions') + ' – Dashboard – ' + BRAND;

    const ids = ['chart-volume', 'chart-net', 'chart-reach', 'sov', 'top-sources', 'top-authors'];
    for (const id of ids) $(id).setAttribute('aria-busy', 'true');

    const range = { since: apiSince(st.since), until: apiUntil(st.until) };
    const qp = Object.assign({ query: st.query }, range);
    // Team activity (who triaged what): shown when the server keeps an audit log.
    api('/api/audit', { limit: 10 })
      .then((r) => drawActivity($('activity'), r && Array.isArray(r.entries) ? r.entries : []))
      .catch(() => drawActivity($('activity'), []));
    const [stats, sov, tops, topa, alerts, neg] = await Promise.allSettled([
      api('/api/stats', Object.assign({ interval: st.interval }, qp)),
      api('/api/share-of-voice', range),
      api('/api/top', Object.assign({ by: 'sources', limit: 10 }, qp)),
      api('/api/top', Object.assign({ by: 'authors', limit: 10 }, qp)),
      api('/api/alerts', Object.assign({ limit: 100 }, qp)),
      api('/api/search', Object.assign({ sentiment: 'negative', sort: 'newest', limit: 10 }, qp)),
    ]);
    if (seq !== renderSeq) return;
    for (const id of ids) $(id).removeAttribute('aria-busy');

    // A parameter error (bad date, unknown query) is the same for every call: show it once.
    const firstBad = [stats, sov, tops, topa, alerts, neg].find((r) => r.status === 'rejected' && r.reason && r.reason.parameter);
    showError($('dash-error'), qerr || (firstBad ? firstBad.reason : null), DASH_FIELDS_MAP);

    const alertList = alerts.status === 'fulfilled' && Array.isArray(alerts.value) ? alerts.value : [];
    lastCharts = null;
    if (stats.status === 'fulfilled') {
      lastCharts = { stats: stats.value, alerts: alertList, interval: st.interval, width: 0 };
      drawCharts();
      const t = stats.value.totals || {};
      const box = $('dash-totals');
      clear(box);
      const items = [
        ['Mentions', fmtInt(t.total), ''],
        ['Negative', fmtInt(t.negative), 'neg'],
        ['Neutral', fmtInt(t.neutral), 'neu'],
        ['Positive', fmtInt(t.positive), 'pos'],
        ['Reach', fmtCompact(t.reach), ''],
        // Net sentiment over the scored mentions (the server's definition).
        ['Net', num(t.total) - num(t.unscored) ? fmtSigned(num(stats.value.net_sentiment)) : '–', ''],
      ];
      // Mentions in a language without a classifier: shown, never counted as neutral.
      if (num(t.unscored) > 0) items.splice(4, 0, ['Not scored', fmtInt(t.unscored), 'uns']);
      for (const [k, v, c] of items) {
        const d = el('div', 'total-item ' + c);
        d.appendChild(el('span', 'v', v));
        d.appendChild(el('span', 'k', k));
        box.appendChild(d);
      }
    } else {
      for (const id of ['chart-volume', 'chart-net', 'chart-reach']) panelError($(id), stats.reason);
      clear($('dash-totals'));
    }
    if (sov.status === 'fulfilled') drawSov($('sov'), sov.value, st.query);
    else panelError($('sov'), sov.reason);
    if (tops.status === 'fulfilled') drawTop($('top-sources'), tops.value, 'Top sources', true, st);
    else panelError($('top-sources'), tops.reason);
    if (topa.status === 'fulfilled') drawTop($('top-authors'), topa.value, 'Top authors by reach', false, st);
    else panelError($('top-authors'), topa.reason);
    if (alerts.status === 'fulfilled') drawAlerts($('alerts'), alertList);
    else {
      clear($('alerts'));
      $('alerts').appendChild(el('li', 'panel-error', 'Could not load alerts: ' + alerts.reason.message));
    }
    const negList = $('latest-negative');
    clear(negList);
    if (neg.status === 'fulfilled') {
      const ms = Array.isArray(neg.value.mentions) ? neg.value.mentions : [];
      const sq = queries.find((x) => x && x.name === st.query);
      const matchers = termMatchers(sq && Array.isArray(sq.search_terms) ? sq.search_terms.map(str) : []);
      for (const m of ms) negList.appendChild(mentionItem(m, matchers, true));
      if (!ms.length) negList.appendChild(el('li', 'nodata', 'No negative mentions in this period.'));
    } else {
      negList.appendChild(el('li', 'panel-error', 'Could not load: ' + neg.reason.message));
    }
    setReady();
  }

  function initDashboard() {
    const go = () => {
      const p = { query: $('dash-query').value };
      const since = $('dash-since').value;
      const until = $('dash-until').value;
      if (since) p.since = since;
      if (until) p.until = until;
      if ($('dash-interval').value === 'hour') p.interval = 'hour';
      // qs() drops empty values; keep query= explicitly so "All mentions" survives reload.
      const s = qs(p);
      navigate('/dashboard' + (p.query ? s : '?query=' + (s ? '&' + s.slice(1) : '')));
    };
    $('dash-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      go();
    });
    for (const id of ['dash-query', 'dash-interval']) $(id).addEventListener('change', go);
  }

  // ---------------------------------------------------------------- boot

  function init() {
    initSearch();
    initDashboard();
    $('login-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const box = $('login-error');
      try {
        const r = await apiSend('POST', '/api/login', { name: $('login-name').value.trim(), password: $('login-password').value });
        try {
          sessionStorage.setItem('hark_csrf', r && r.csrf ? String(r.csrf) : '');
          localStorage.removeItem('hark_token');
        } catch (_) {
          /* memory only */
        }
        token = '';
        box.hidden = true;
        $('login-password').value = '';
        $('auth').hidden = true;
        queriesPromise = null;
        render();
      } catch (e) {
        box.hidden = false;
        box.textContent = e.message;
      }
    });
    $('auth-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      token = $('auth-token').value.trim();
      try {
        localStorage.setItem('hark_token', token);
      } catch (_) {
        /* memory only */
      }
      $('auth-token').value = '';
      $('auth').hidden = true;
      queriesPromise = null;
      render();
    });
    // Same-origin page links are routed client-side (plain clicks only).
    document.addEventListener('click', (ev) => {
      if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
      const a = ev.target.closest && ev.target.closest('a[data-nav], a[data-internal]');
      if (!a) return;
      const u = new URL(a.getAttribute('href'), location.href);
      if (u.origin !== location.origin) return;
      ev.preventDefault();
      navigate(u.pathname + u.search);
    });
    window.addEventListener('popstate', render);
    let resizeTimer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        if (route() === 'dashboard' && lastCharts && lastCharts.width !== $('chart-volume').clientWidth) drawCharts();
      }, 150);
    });
    // On a phone, start with the filters folded unless one is set.
    const st = searchState();
    if (window.matchMedia('(max-width: 720px)').matches && !['query', 'source', 'sentiment', 'lang', 'since', 'until', 'sort'].some((k) => st[k])) {
      $('filters').open = false;
    }
    render();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
