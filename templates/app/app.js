// rooom web app: sign up / sign in / account, and the shared pieces (DOM builder, API
// client, routing, forms) that rooms.js uses for the room, media and module managers.
// Plain DOM, no framework, no inline script or style (the app host's CSP forbids both).
// The access token lives in memory only; the refresh token rides in the HttpOnly
// `__Host-rooom_refresh` cookie.
'use strict';

(() => {
  const API = '/api/v1';
  const state = {
    access: null, // access token (memory only)
    expiresAt: 0, // ms epoch
    user: null,
    tenantUrl: null,
    timer: 0,
    refreshing: null,
    flash: null, // {kind, text} shown once on the next view
    signinMode: 'password',
    otpEmail: '',
    verified: new Map(), // token -> Promise of the verify-email result
    started: false, // the first view is rendered
    notFound: false, // the current view is the not-found page
  };

  // ---------- DOM helpers ----------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'value') {
        if (el instanceof HTMLInputElement) el.defaultValue = v; // so form.reset() restores it
        else el.value = v;
      }
      else if (k === 'checked') el.checked = !!v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c == null || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }
  const $ = (sel, root = document) => root.querySelector(sel);
  const navLink = (href, text, attrs = {}) => h('a', { href, 'data-nav': true, ...attrs }, text);

  const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  function when(s) {
    if (!s) return '—';
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? String(s) : dateFmt.format(d);
  }

  function describeAgent(ua) {
    if (!ua) return 'Unknown device';
    const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox'
      : /(Chrome|Chromium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari'
      : /curl\//i.test(ua) ? 'curl' : /git\//i.test(ua) ? 'git' : null;
    const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS'
      : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows'
      : /Linux/.test(ua) ? 'Linux' : null;
    if (browser && os) return `${browser} on ${os}`;
    return browser || os || ua.slice(0, 60);
  }

  // ---------- API ----------
  class ApiError extends Error {
    constructor(status, code, message, fields) {
      super(message);
      this.status = status;
      this.code = code;
      this.fields = fields || {};
    }
  }

  // Re-raise a wrong-credentials answer with a clearer message, or as a field error.
  function explainCredentials(err, message, field) {
    if (!(err instanceof ApiError) || err.code !== 'INVALID_CREDENTIALS') return err;
    return new ApiError(err.status, err.code, message, field ? { [field]: [message] } : {});
  }

  function parseJson(text) {
    if (!text) return null;
    try { return JSON.parse(text); } catch { return null; }
  }

  // The ApiError for a failed answer: the API's {error:{code, message, fields}} shape.
  function failure(status, data, retryAfter) {
    const e = (data && data.error) || {};
    let message = e.message || `Something went wrong (HTTP ${status}).`;
    if (status === 429) {
      const after = Number(retryAfter);
      message = after > 0
        ? `Too many attempts. Try again in ${after} second${after === 1 ? '' : 's'}.`
        : 'Too many attempts. Try again in a moment.';
    }
    return new ApiError(status, e.code || `HTTP_${status}`, message, e.fields);
  }

  // A 401 about the access token (expired, revoked session) is worth one refresh and
  // retry; a 401 about a password or code the user typed is an ordinary error.
  function sessionExpired(status, data, auth) {
    return status === 401 && auth && state.access && !(data && data.error && data.error.code === 'INVALID_CREDENTIALS');
  }

  function endedSession() {
    signedOut('Your session has ended. Please sign in again.');
    return new ApiError(401, 'UNAUTHENTICATED', 'Your session has ended.');
  }

  async function api(method, path, body, { auth = true, retry = true } = {}) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth && state.access) headers.authorization = `Bearer ${state.access}`;
    let res;
    try {
      res = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'Could not reach rooom. Check your connection and try again.');
    }
    const data = parseJson(await res.text());
    if (sessionExpired(res.status, data, auth)) {
      if (retry && (await refresh()) === 'ok') return api(method, path, body, { auth, retry: false });
      throw endedSession();
    }
    if (!res.ok) throw failure(res.status, data, res.headers.get('retry-after'));
    return data;
  }

  // Sends raw bytes (a File or Blob) as the body. XMLHttpRequest rather than fetch,
  // because only it reports upload progress: onProgress(loaded, total).
  function upload(method, path, blob, { onProgress, contentType, retry = true } = {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, API + path);
      xhr.setRequestHeader('accept', 'application/json');
      if (contentType) xhr.setRequestHeader('content-type', contentType);
      if (state.access) xhr.setRequestHeader('authorization', `Bearer ${state.access}`);
      if (onProgress) {
        xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); });
      }
      xhr.addEventListener('load', () => resolve(xhr));
      xhr.addEventListener('error', () => reject(new ApiError(0, 'NETWORK', 'The upload was interrupted. Check your connection and try again.')));
      xhr.addEventListener('abort', () => reject(new ApiError(0, 'ABORTED', 'The upload was cancelled.')));
      xhr.send(blob);
    }).then(async (xhr) => {
      const data = parseJson(xhr.responseText);
      if (sessionExpired(xhr.status, data, true)) {
        if (retry && (await refresh()) === 'ok') return upload(method, path, blob, { onProgress, contentType, retry: false });
        throw endedSession();
      }
      if (xhr.status < 200 || xhr.status > 299) throw failure(xhr.status, data, xhr.getResponseHeader('retry-after'));
      return data;
    });
  }

  // ---------- session ----------
  function setSession(tr) {
    state.access = tr.access_token;
    state.user = tr.user || state.user;
    if (tr.tenant && tr.tenant.url) state.tenantUrl = tr.tenant.url;
    const ttl = Math.max(30, Number(tr.expires_in) || 900);
    state.expiresAt = Date.now() + ttl * 1000;
    clearTimeout(state.timer);
    // Renew a minute before expiry (or at 80% of a short lifetime).
    const lead = Math.min(60, ttl * 0.2);
    state.timer = setTimeout(() => { renew(); }, (ttl - lead) * 1000);
  }

  function clearSession() {
    clearTimeout(state.timer);
    state.access = null;
    state.user = null;
    state.tenantUrl = null;
    state.expiresAt = 0;
  }

  // Serialise refreshes across tabs: the refresh token is single use, and two tabs
  // presenting the same one would look like token reuse.
  function withLock(fn) {
    if (navigator.locks && navigator.locks.request) return navigator.locks.request('rooom-refresh', fn);
    return fn();
  }

  // Resolves to 'ok', 'denied' (no valid session) or 'offline'.
  function refresh() {
    if (!state.refreshing) {
      state.refreshing = withLock(async () => {
        let res;
        try {
          res = await fetch(`${API}/auth/refresh`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            body: '{}',
            credentials: 'same-origin',
          });
        } catch {
          return 'offline';
        }
        if (!res.ok) {
          if (res.status === 429 || res.status >= 500) return 'offline';
          return 'denied';
        }
        try {
          setSession(await res.json());
        } catch {
          return 'offline';
        }
        return 'ok';
      }).finally(() => { state.refreshing = null; });
    }
    return state.refreshing;
  }

  async function renew() {
    if (!state.access) return;
    const r = await refresh();
    if (r === 'denied') signedOut('Your session has ended. Please sign in again.');
    else if (r === 'offline') state.timer = setTimeout(renew, 15000);
  }

  document.addEventListener('visibilitychange', () => {
    // Background tabs throttle timers; catch up when the tab is shown again.
    if (document.visibilityState === 'visible' && state.access && Date.now() > state.expiresAt - 30000) renew();
  });

  function signedIn(tr, flash) {
    setSession(tr);
    if (flash) state.flash = flash;
    go('/account', true);
  }

  function signedOut(message) {
    const was = !!state.access;
    clearSession();
    if (message && was) state.flash = { kind: 'info', text: message };
    if (was) go('/signin', true);
  }

  function tenantUrl() {
    if (state.tenantUrl) return state.tenantUrl;
    const u = state.user;
    if (u && u.tenant_url) return u.tenant_url;
    // Locally the app host is localhost:PORT and tenants are <name>.localhost:PORT;
    // in production the app usually sits on app.<domain> and tenants on <name>.<domain>.
    const host = location.host.replace(/^app\./, '');
    return `${location.protocol}//${u.username}.${host}/`;
  }

  // ---------- routing ----------
  const routes = {
    '/': viewHome,
    '/signin': viewSignIn,
    '/signup': viewSignUp,
    '/verify-email': viewVerifyEmail,
    '/reset-password': viewResetPassword,
    '/account': viewAccount,
  };
  // Routes with a parameter, as [RegExp, view(match)]; rooms.js adds /rooms/<slug>.
  const patterns = [];
  // Signed-in nav links before the account name, as [href, text]; rooms.js adds its pages.
  const mainNav = [];

  function findView(path) {
    if (routes[path]) return [routes[path], null];
    for (const [re, view] of patterns) {
      const m = re.exec(path);
      if (m) return [view, m];
    }
    return [viewNotFound, null];
  }

  function go(path, replace = false) {
    if (replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    render(true);
  }

  window.addEventListener('popstate', () => render(true));
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[data-nav]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    if (a.getAttribute('href') === location.pathname + location.search) return;
    go(a.getAttribute('href'));
  });

  function render(moveFocus = false) {
    const app = $('#app');
    const [view, match] = findView(location.pathname);
    state.notFound = view === viewNotFound;
    renderNav();
    const content = view(match);
    if (!content) return; // the view redirected
    const flash = state.flash;
    state.flash = null;
    const nodes = [content].flat();
    if (flash) nodes[0].prepend(notice(flash.kind, flash.text));
    app.replaceChildren(...nodes);
    const title = $('h1', app);
    document.title = title ? `${title.textContent} · rooom` : 'rooom';
    if (moveFocus && title) {
      title.setAttribute('tabindex', '-1');
      title.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
  }

  function renderNav() {
    const nav = $('#nav');
    if (!state.user) {
      nav.replaceChildren(
        navLink('/signin', 'Sign in', { class: 'navlink' }),
        navLink('/signup', 'Sign up', { class: 'navlink' }),
      );
      return;
    }
    const here = (href) => (location.pathname === href || location.pathname.startsWith(`${href}/`) ? 'page' : null);
    nav.replaceChildren(
      ...mainNav.map(([href, text]) => navLink(href, text, { class: 'navlink', 'aria-current': here(href) })),
      navLink('/account', state.user.username, { class: 'navlink', id: 'nav-account', 'aria-current': here('/account') }),
      h('button', { type: 'button', class: 'btn small', id: 'signout', onclick: onSignOut }, 'Sign out'),
    );
  }

  async function onSignOut(e) {
    const btn = e.currentTarget;
    btn.disabled = true;
    try {
      await api('POST', '/auth/logout', undefined, { retry: true });
    } catch {
      // Ending the session locally is what matters to the user; the server session
      // is already gone if the call was refused as unauthenticated.
    }
    clearSession();
    state.flash = { kind: 'ok', text: 'You are signed out.' };
    go('/signin', true);
  }

  // ---------- UI pieces ----------
  function notice(kind, text, extra) {
    return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text, extra ? [' ', extra] : null);
  }

  function field(o) {
    const hintId = o.hint ? `${o.id}-hint` : null;
    const errId = `${o.id}-error`;
    const attrs = {
      id: o.id,
      name: o.name || o.id,
      type: o.type || 'text',
      autocomplete: o.autocomplete,
      required: o.required,
      minlength: o.minlength,
      maxlength: o.maxlength,
      min: o.min,
      max: o.max,
      inputmode: o.inputmode,
      pattern: o.pattern,
      placeholder: o.placeholder,
      autocapitalize: o.autocapitalize,
      spellcheck: o.spellcheck,
      readonly: o.readonly,
      value: o.value,
      multiple: o.multiple,
      accept: o.accept,
      'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
    };
    const control = o.options
      ? h('select', { id: o.id, name: o.name || o.id, 'aria-describedby': attrs['aria-describedby'] },
        o.options.map(([v, t]) => h('option', { value: v, selected: v === o.value }, t)))
      : h('input', attrs);
    return h('div', { class: 'field' },
      h('label', { for: o.id }, o.label, o.optional ? h('span', { class: 'optional' }, ' (optional)') : null),
      control,
      o.hint ? h('p', { class: 'hint', id: hintId }, o.hint) : null,
      h('p', { class: 'field-error', id: errId, hidden: true }));
  }

  const FIELD_LABELS = {
    username: 'Username', email: 'Email', password: 'Password', display_name: 'Display name',
    new_password: 'New password', current_password: 'Current password', login: 'Username or email',
    code: 'Code', name: 'Name', scope: 'Scope', tenant: 'Site', room: 'Room', expires_in_days: 'Expiry',
  };

  function clearErrors(form) {
    for (const p of form.querySelectorAll('.field-error')) { p.hidden = true; p.textContent = ''; }
    for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
    const fe = $('.form-error', form);
    if (fe) { fe.hidden = true; fe.replaceChildren(); }
  }

  // Show an ApiError on a form: field errors next to their inputs (map: API field ->
  // input id), everything else in the form's error box.
  function showError(form, err, map = {}) {
    clearErrors(form);
    const general = [];
    let first = null;
    for (const [k, msgs] of Object.entries(err.fields || {})) {
      const text = [].concat(msgs).join(' ');
      const input = map[k] && document.getElementById(map[k]);
      if (input) {
        const p = document.getElementById(`${map[k]}-error`);
        p.textContent = text;
        p.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        first = first || input;
      } else {
        general.push(`${FIELD_LABELS[k] || k}: ${text}`);
      }
    }
    if (general.length || !first) {
      const fe = $('.form-error', form);
      if (general.length > 1) fe.replaceChildren(err.message, h('ul', {}, general.map((g) => h('li', {}, g))));
      else fe.replaceChildren(general.length && err.code === 'VALIDATION_FAILED' ? general[0] : err.message);
      fe.hidden = false;
    }
    if (first) first.focus();
  }

  // A form whose submit handler gets the values; the submit button is disabled while
  // the request runs and errors land on the form.
  function form(id, children, submitLabel, onSubmit, { map = {}, submitClass = 'btn primary', after } = {}) {
    const btn = h('button', { type: 'submit', class: submitClass, id: `${id}-submit` }, submitLabel);
    const f = h('form', { id, class: 'form', novalidate: true },
      h('div', { class: 'notice error form-error', role: 'alert', hidden: true }),
      children,
      h('div', { class: 'actions' }, btn, after));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (btn.disabled) return;
      clearErrors(f);
      const values = Object.fromEntries(new FormData(f).entries());
      btn.disabled = true;
      f.setAttribute('aria-busy', 'true');
      try {
        await onSubmit(values, f);
      } catch (err) {
        if (f.isConnected) {
          showError(f, err instanceof ApiError ? err : new ApiError(0, 'CLIENT', String((err && err.message) || err)), map);
        }
      } finally {
        btn.disabled = false;
        f.removeAttribute('aria-busy');
      }
    });
    return f;
  }

  function linkButton(text, onclick, attrs = {}) {
    return h('button', { type: 'button', class: 'linkish', onclick, ...attrs }, text);
  }

  // A destructive button that needs a second click within a few seconds.
  function confirmButton(text, confirmText, action, attrs = {}) {
    let armed = 0;
    const b = h('button', { type: 'button', class: 'btn small danger-ghost', ...attrs }, text);
    b.addEventListener('click', async () => {
      if (!armed) {
        b.textContent = confirmText;
        armed = setTimeout(() => { armed = 0; b.textContent = text; }, 4000);
        return;
      }
      clearTimeout(armed);
      armed = 0;
      b.disabled = true;
      try {
        await action();
      } catch (err) {
        b.disabled = false;
        b.textContent = text;
        const prev = b.nextElementSibling;
        if (prev && prev.classList.contains('inline-error')) prev.remove();
        b.after(h('span', { class: 'inline-error', role: 'alert' }, ` ${err.message}`));
      }
    });
    return b;
  }

  function card(title, id, ...children) {
    const hid = `${id}-title`;
    return h('section', { class: 'card', id, 'aria-labelledby': hid }, h('h2', { id: hid }, title), children);
  }

  function page(title, lead, ...children) {
    return h('div', { class: 'narrow' }, h('h1', {}, title), lead ? h('p', { class: 'lead' }, lead) : null, children);
  }

  function needsAuth() {
    if (state.user) return false;
    go('/signin', true);
    return true;
  }

  // ---------- views ----------
  function viewHome() {
    go(state.user ? '/account' : '/signin', true);
    return null;
  }

  function viewNotFound() {
    return page('Page not found', 'There is nothing here.', h('p', {}, navLink('/', 'Go to rooom')));
  }

  function viewSignUp() {
    if (state.user) { go('/account', true); return null; }
    const host = location.host.replace(/^app\./, '');
    const preview = h('strong', { id: 'signup-address' }, `name.${host}`);
    const f = form('signup-form', [
      field({
        id: 'signup-username', name: 'username', label: 'Username', required: true, autocomplete: 'username',
        autocapitalize: 'none', spellcheck: 'false', minlength: 3, maxlength: 32,
        hint: '3–32 lowercase letters, digits or dashes. It becomes your address.',
      }),
      h('p', { class: 'address' }, 'Your site: ', preview),
      field({ id: 'signup-email', name: 'email', type: 'email', label: 'Email', required: true, autocomplete: 'email' }),
      field({
        id: 'signup-password', name: 'password', type: 'password', label: 'Password', required: true,
        autocomplete: 'new-password', minlength: 8, maxlength: 128,
        hint: 'At least 8 characters; 15 or more is better. A short phrase works well.',
      }),
      field({
        id: 'signup-display-name', name: 'display_name', label: 'Display name', optional: true,
        autocomplete: 'name', maxlength: 64, hint: 'Shown on your entrance page. Defaults to your username.',
      }),
    ], 'Create account', async (v) => {
      const body = { username: v.username.trim(), email: v.email.trim(), password: v.password };
      if (v.display_name.trim()) body.display_name = v.display_name.trim();
      const tr = await api('POST', '/auth/register', body, { auth: false });
      signedIn(tr, { kind: 'ok', text: `Welcome to rooom! We sent a link to ${tr.user ? tr.user.email : body.email} to verify your email address.` });
    }, {
      map: { username: 'signup-username', email: 'signup-email', password: 'signup-password', display_name: 'signup-display-name' },
    });
    const input = $('#signup-username', f);
    input.addEventListener('input', () => {
      const v = input.value.trim().toLowerCase();
      preview.textContent = `${v || 'name'}.${host}`;
    });
    return page('Create your rooom', 'A home on the web for small hand-made sites.',
      f, h('p', { class: 'alt' }, 'Already have an account? ', navLink('/signin', 'Sign in')));
  }

  function viewSignIn() {
    if (state.user) { go('/account', true); return null; }
    const mode = state.signinMode;
    const switchTo = (m) => () => { state.signinMode = m; render(true); };

    if (mode === 'forgot') {
      const done = h('div', { id: 'forgot-done' });
      const f = form('forgot-form', [
        field({ id: 'forgot-email', name: 'email', type: 'email', label: 'Email', required: true, autocomplete: 'email' }),
      ], 'Send reset link', async (v, f) => {
        await api('POST', '/auth/password/forgot', { email: v.email.trim() }, { auth: false });
        f.hidden = true;
        done.replaceChildren(notice('ok', 'If an account uses that address, a reset link is on its way. It works once, for one hour.'));
      }, { map: { email: 'forgot-email' }, after: linkButton('Back to sign in', switchTo('password'), { id: 'forgot-back' }) });
      return page('Reset your password', 'We will email you a link to choose a new password.', done, f);
    }

    if (mode === 'otp') {
      const sent = !!state.otpEmail;
      if (!sent) {
        const f = form('otp-request-form', [
          field({ id: 'otp-email', name: 'email', type: 'email', label: 'Email', required: true, autocomplete: 'email' }),
        ], 'Email me a code', async (v) => {
          const email = v.email.trim();
          await api('POST', '/auth/otp/request', { email }, { auth: false });
          state.otpEmail = email;
          state.flash = { kind: 'ok', text: `If ${email} belongs to an account, a 6-digit code is on its way. It is valid for 15 minutes.` };
          render(true);
        }, { map: { email: 'otp-email' }, after: linkButton('Use my password instead', switchTo('password'), { id: 'otp-back' }) });
        return page('Sign in with a code', 'We will email you a one-time code.', f);
      }
      const f = form('otp-verify-form', [
        field({
          id: 'otp-code', name: 'code', label: '6-digit code', required: true, autocomplete: 'one-time-code',
          inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: 6, hint: `Sent to ${state.otpEmail}.`,
        }),
      ], 'Sign in', async (v) => {
        const tr = await api('POST', '/auth/otp/verify', { email: state.otpEmail, code: v.code.replace(/\s+/g, '') }, { auth: false })
        .catch((err) => { throw explainCredentials(err, 'That code is wrong, used or expired.'); });
        state.otpEmail = '';
        state.signinMode = 'password';
        signedIn(tr);
      }, {
        map: { code: 'otp-code' },
        after: linkButton('Use another email', () => { state.otpEmail = ''; render(true); }, { id: 'otp-restart' }),
      });
      return page('Enter your code', null, f);
    }

    const f = form('signin-form', [
      field({
        id: 'signin-login', name: 'login', label: 'Username or email', required: true, autocomplete: 'username',
        autocapitalize: 'none', spellcheck: 'false',
      }),
      field({ id: 'signin-password', name: 'password', type: 'password', label: 'Password', required: true, autocomplete: 'current-password' }),
    ], 'Sign in', async (v) => {
      const tr = await api('POST', '/auth/login', { login: v.login.trim(), password: v.password }, { auth: false })
        .catch((err) => { throw explainCredentials(err, 'That username or email and password do not match.'); });
      signedIn(tr);
    }, { map: { login: 'signin-login', password: 'signin-password' } });
    return page('Sign in', null, f,
      h('p', { class: 'alt' },
        linkButton('Email me a code', switchTo('otp'), { id: 'signin-otp' }), ' · ',
        linkButton('Forgot password?', switchTo('forgot'), { id: 'signin-forgot' })),
      h('p', { class: 'alt' }, 'New here? ', navLink('/signup', 'Create an account')));
  }

  function viewVerifyEmail() {
    const token = new URLSearchParams(location.search).get('token');
    const box = h('div', { id: 'verify-result' }, h('p', { class: 'muted' }, 'Checking your link…'));
    const next = () => (state.user ? navLink('/account', 'Go to your account') : navLink('/signin', 'Sign in'));
    if (!token) {
      box.replaceChildren(notice('error', 'This link has no token. Open the link from the email again.'));
    } else {
      if (!state.verified.has(token)) {
        state.verified.set(token, api('POST', '/auth/verify-email', { token }, { auth: false })
          .then(() => null, (err) => err));
      }
      state.verified.get(token).then((err) => {
        if (!box.isConnected) return;
        if (!err) {
          if (state.user) state.user.email_verified = true;
          box.replaceChildren(notice('ok', 'Your email address is verified. Thank you!'), h('p', {}, next()));
        } else if (err.code === 'INVALID_TOKEN') {
          box.replaceChildren(notice('error', 'This verification link is invalid, already used or expired.'), h('p', {}, next()));
        } else {
          box.replaceChildren(notice('error', err.message), h('p', {}, next()));
        }
      });
    }
    return page('Verify your email', null, box);
  }

  function viewResetPassword() {
    const token = new URLSearchParams(location.search).get('token');
    const toForgot = () => { state.signinMode = 'forgot'; go('/signin'); };
    if (!token) {
      return page('Choose a new password', null,
        notice('error', 'This link has no token.'),
        h('p', {}, linkButton('Request a new reset link', toForgot)));
    }
    const done = h('div', { id: 'reset-done' });
    const f = form('reset-form', [
      field({
        id: 'reset-password', name: 'new_password', type: 'password', label: 'New password', required: true,
        autocomplete: 'new-password', minlength: 8, maxlength: 128, hint: 'At least 8 characters; 15 or more is better.',
      }),
      field({ id: 'reset-password-confirm', name: 'confirm', type: 'password', label: 'Repeat the new password', required: true, autocomplete: 'new-password' }),
    ], 'Change password', async (v, f) => {
      if (v.new_password !== v.confirm) {
        throw new ApiError(422, 'VALIDATION_FAILED', 'The passwords differ.', { confirm: ['The two passwords differ.'] });
      }
      try {
        await api('POST', '/auth/password/reset', { token, new_password: v.new_password }, { auth: false });
      } catch (err) {
        if (err.code === 'INVALID_TOKEN') {
          throw new ApiError(400, err.code, 'This reset link is invalid, already used or expired. Request a new one from the sign-in page.');
        }
        throw err;
      }
      // Every session ends on a reset; forget ours too.
      clearSession();
      renderNav();
      f.hidden = true;
      done.replaceChildren(notice('ok', 'Password changed. Sign in with your new password.'),
        h('p', {}, navLink('/signin', 'Sign in', { id: 'reset-signin' })));
    }, { map: { new_password: 'reset-password', confirm: 'reset-password-confirm' } });
    return page('Choose a new password', null, done, f);
  }

  // ---------- account ----------
  function viewAccount() {
    if (needsAuth()) return null;
    const u = state.user;
    const url = tenantUrl();
    const siteLabel = url.replace(/^https?:\/\//, '').replace(/\/$/, '');
    const nameEl = h('span', { id: 'account-display-name-view' }, u.display_name || u.username);
    const emailLine = h('p', { class: 'muted', id: 'account-email' });
    const setEmailLine = () => emailLine.replaceChildren(
      state.user.email, ' ',
      state.user.email_verified
        ? h('span', { class: 'badge ok' }, 'verified')
        : h('span', { class: 'badge warn', title: 'Open the link we emailed you' }, 'not verified yet'));
    setEmailLine();

    const hero = h('section', { class: 'hero', 'aria-label': 'You' },
      h('h1', {}, 'Hello, ', nameEl),
      h('p', { class: 'handle' }, '@', h('span', { id: 'account-username' }, u.username)),
      emailLine,
      h('p', {}, h('a', { class: 'btn primary', id: 'site-link', href: url }, `Open ${siteLabel}`)));

    // Refresh the user record in the background (e.g. after verifying the email).
    api('GET', '/me').then((me) => {
      if (!me || !state.user) return;
      state.user = me;
      nameEl.textContent = me.display_name || me.username;
      setEmailLine();
    }, () => {});

    return h('div', { class: 'account' },
      hero,
      cardMessages(),
      cardProfile(nameEl),
      cardPassword(),
      cardSessions(),
      cardTokens(),
      cardDanger());
  }

  function listLoader(container, load, renderItems) {
    container.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    const reload = () => {
      container.setAttribute('aria-busy', 'true');
      return load().then((items) => {
        container.replaceChildren(...[renderItems(items || [], reload)].flat());
      }, (err) => {
        container.replaceChildren(notice('error', err.message));
      }).finally(() => container.setAttribute('aria-busy', 'false'));
    };
    reload();
    return reload;
  }

  function cardMessages() {
    const list = h('div', { id: 'messages' });
    const count = h('span', { class: 'count', id: 'messages-unread' });
    const c = card('Inbox', 'inbox', list);
    $('h2', c).append(' ', count);
    listLoader(list, () => api('GET', '/me/messages'), (items) => {
      const unread = items.filter((m) => !m.read).length;
      count.textContent = unread ? `${unread} new` : '';
      if (!items.length) return h('p', { class: 'muted' }, 'No messages.');
      return h('ul', { class: 'rows' }, items.map((m) => {
        const li = h('li', { class: m.read ? 'row' : 'row unread', 'data-id': m.id },
          h('div', { class: 'grow' },
            h('p', { class: 'row-title' }, m.subject || m.kind),
            m.body ? h('p', { class: 'row-body' }, m.body) : null,
            h('p', { class: 'meta' }, when(m.created_at))));
        if (!m.read) {
          const b = h('button', { type: 'button', class: 'btn small', 'aria-label': `Mark “${m.subject || m.kind}” as read` }, 'Mark read');
          b.addEventListener('click', async () => {
            b.disabled = true;
            try {
              await api('POST', `/me/messages/${encodeURIComponent(m.id)}/read`);
              m.read = true;
              li.classList.remove('unread');
              b.remove();
              const left = items.filter((x) => !x.read).length;
              count.textContent = left ? `${left} new` : '';
            } catch (err) {
              b.disabled = false;
              b.after(h('span', { class: 'inline-error', role: 'alert' }, ` ${err.message}`));
            }
          });
          li.append(b);
        }
        return li;
      }));
    });
    return c;
  }

  function cardProfile(nameEl) {
    const status = h('p', { class: 'saved', role: 'status' });
    const f = form('profile-form', [
      field({
        id: 'account-display-name', name: 'display_name', label: 'Display name', required: true, maxlength: 64,
        autocomplete: 'name', value: state.user.display_name || '', hint: 'Shown on your entrance page and to people you work with.',
      }),
    ], 'Save', async (v) => {
      status.textContent = '';
      const me = await api('PATCH', '/me', { display_name: v.display_name.trim() });
      if (me) state.user = { ...state.user, ...me };
      nameEl.textContent = state.user.display_name || state.user.username;
      status.textContent = 'Saved.';
    }, { map: { display_name: 'account-display-name' }, after: status });
    return card('Profile', 'profile', f);
  }

  function cardPassword() {
    const status = h('p', { class: 'saved', role: 'status' });
    const f = form('password-form', [
      field({ id: 'password-current', name: 'current_password', type: 'password', label: 'Current password', required: true, autocomplete: 'current-password' }),
      field({
        id: 'password-new', name: 'new_password', type: 'password', label: 'New password', required: true,
        autocomplete: 'new-password', minlength: 8, maxlength: 128, hint: 'At least 8 characters; 15 or more is better.',
      }),
    ], 'Change password', async (v, f) => {
      status.textContent = '';
      await api('POST', '/me/password', { current_password: v.current_password, new_password: v.new_password })
        .catch((err) => { throw explainCredentials(err, 'That is not your current password.', 'current_password'); });
      f.reset();
      status.textContent = 'Password changed. Your other sessions were signed out.';
    }, { map: { current_password: 'password-current', new_password: 'password-new' }, after: status });
    return card('Password', 'password', f);
  }

  function cardSessions() {
    const list = h('div', { id: 'sessions' });
    const all = h('button', { type: 'button', class: 'btn', id: 'signout-all' }, 'Sign out everywhere');
    all.addEventListener('click', async () => {
      all.disabled = true;
      try {
        await api('POST', '/auth/logout-all');
      } catch (err) {
        if (err.status !== 401) {
          all.disabled = false;
          all.after(h('span', { class: 'inline-error', role: 'alert' }, ` ${err.message}`));
          return;
        }
      }
      clearSession();
      state.flash = { kind: 'ok', text: 'You are signed out on every device.' };
      go('/signin', true);
    });
    listLoader(list, () => api('GET', '/me/sessions'), (items, reload) => {
      if (!items.length) return h('p', { class: 'muted' }, 'No sessions.');
      return h('ul', { class: 'rows' }, items.map((s) => h('li', { class: 'row', 'data-id': s.id },
        h('div', { class: 'grow' },
          h('p', { class: 'row-title' }, describeAgent(s.user_agent), s.current ? h('span', { class: 'badge ok' }, 'this device') : null),
          h('p', { class: 'meta' }, `Signed in ${when(s.created_at)} · last active ${when(s.last_used_at)}`)),
        s.current ? null : confirmButton('Revoke', 'Really revoke?', async () => {
          await api('DELETE', `/me/sessions/${encodeURIComponent(s.id)}`);
          reload();
        }, { 'aria-label': `Revoke ${describeAgent(s.user_agent)} session from ${when(s.created_at)}` }))));
    });
    return card('Sessions', 'sessions-card',
      h('p', { class: 'muted' }, 'Devices signed in to your account.'), list, h('div', { class: 'actions' }, all));
  }

  function cardTokens() {
    const list = h('div', { id: 'tokens' });
    const fresh = h('div', { id: 'token-created' });
    let reload = () => {};
    const f = form('token-form', [
      h('div', { class: 'grid' },
        field({ id: 'token-name', name: 'name', label: 'Name', required: true, maxlength: 64, placeholder: 'laptop git' }),
        field({ id: 'token-scope', name: 'scope', label: 'Access', options: [['read', 'Read only'], ['write', 'Read and write']] }),
        field({ id: 'token-tenant', name: 'tenant', label: 'Site', optional: true, placeholder: state.user.username, autocapitalize: 'none' }),
        field({ id: 'token-room', name: 'room', label: 'Room', optional: true, placeholder: 'home', autocapitalize: 'none' }),
        field({ id: 'token-expires', name: 'expires_in_days', type: 'number', label: 'Days valid', min: 1, max: 365, value: '90', inputmode: 'numeric' })),
    ], 'Create token', async (v, f) => {
      const body = { name: v.name.trim(), scope: v.scope };
      if (v.tenant.trim()) body.tenant = v.tenant.trim();
      if (v.room.trim()) body.room = v.room.trim();
      if (v.expires_in_days) body.expires_in_days = Number(v.expires_in_days);
      const t = await api('POST', '/me/tokens', body);
      f.reset();
      const out = h('input', { id: 'token-new-value', type: 'text', readonly: true, value: t.token, 'aria-label': 'New token', spellcheck: 'false' });
      const copy = h('button', { type: 'button', class: 'btn small' }, 'Copy');
      copy.addEventListener('click', async () => {
        out.select();
        try { await navigator.clipboard.writeText(t.token); copy.textContent = 'Copied'; } catch { copy.textContent = 'Press Ctrl+C'; }
      });
      fresh.replaceChildren(h('div', { class: 'notice ok token-once', role: 'status' },
        h('p', {}, h('strong', {}, `Token “${t.name || body.name}” created.`), ' Copy it now: it will not be shown again.'),
        h('div', { class: 'copyrow' }, out, copy)));
      out.focus();
      out.select();
      reload();
    }, {
      map: { name: 'token-name', scope: 'token-scope', tenant: 'token-tenant', room: 'token-room', expires_in_days: 'token-expires' },
    });
    reload = listLoader(list, () => api('GET', '/me/tokens'), (items, again) => {
      if (!items.length) return h('p', { class: 'muted' }, 'No tokens yet.');
      return h('ul', { class: 'rows' }, items.map((t) => {
        const scope = [t.scope === 'write' ? 'read & write' : 'read only', t.tenant, t.room].filter(Boolean).join(' · ');
        return h('li', { class: 'row', 'data-id': t.id },
          h('div', { class: 'grow' },
            h('p', { class: 'row-title' }, t.name || t.id, ' ', h('span', { class: 'badge' }, scope)),
            h('p', { class: 'meta' }, [
              `Created ${when(t.created_at)}`,
              t.expires_at ? `expires ${when(t.expires_at)}` : null,
              t.last_used_at ? `last used ${when(t.last_used_at)}` : 'never used',
            ].filter(Boolean).join(' · '))),
          confirmButton('Delete', 'Really delete?', async () => {
            await api('DELETE', `/me/tokens/${encodeURIComponent(t.id)}`);
            again();
          }, { 'aria-label': `Delete token ${t.name || t.id}` }));
      }));
    });
    return card('Access tokens', 'tokens-card',
      h('p', { class: 'muted' }, 'For git and scripts: use a token as the password with any username.'),
      fresh, f, h('h3', {}, 'Your tokens'), list);
  }

  function cardDanger() {
    const f = form('delete-form', [
      field({
        id: 'delete-password', name: 'password', type: 'password', label: 'Your password', required: true,
        autocomplete: 'current-password',
      }),
      h('div', { class: 'check' },
        h('input', { type: 'checkbox', id: 'delete-confirm', name: 'confirm', value: 'yes' }),
        h('label', { for: 'delete-confirm' }, 'Delete my account, my site, its rooms, modules and media for good.')),
    ], 'Delete account', async (v) => {
      if (v.confirm !== 'yes') throw new ApiError(0, 'CLIENT', 'Tick the box to confirm.');
      await api('DELETE', '/me', { password: v.password })
        .catch((err) => { throw explainCredentials(err, 'That is not your password.', 'password'); });
      clearSession();
      state.flash = { kind: 'ok', text: 'Your account and everything in it were deleted.' };
      go('/signin', true);
    }, { map: { password: 'delete-password' }, submitClass: 'btn danger' });
    const c = card('Delete account', 'danger', h('p', { class: 'muted' }, 'This cannot be undone. Your address becomes free for anyone.'), f);
    c.classList.add('danger-zone');
    return c;
  }

  // ---------- for rooms.js ----------
  // The room, media and module managers live in rooms.js and build on these helpers.
  window.rooom = Object.freeze({
    h, $, api, upload, ApiError, navLink, when, notice, field, form, showError, card, page,
    confirmButton, linkButton, listLoader, needsAuth, go, render,
    user: () => state.user,
    // Takes a token response (or null to forget the session) without leaving the page,
    // for sign-in flows outside app.js (the /grant handoff in teams.js); then render().
    session(tr) { if (tr) setSession(tr); else clearSession(); },
    flash: (kind, text) => { state.flash = { kind, text }; },
    route(path, view) {
      if (path instanceof RegExp) patterns.push([path, view]);
      else routes[path] = view;
      // Loaded after the first render (deferred scripts normally run before it).
      if (state.started && state.notFound) render(false);
    },
    nav(href, text) { mainNav.push([href, text]); if (state.started) renderNav(); },
  });

  // ---------- start ----------
  async function start() {
    const r = await refresh();
    if (r === 'offline') state.flash = { kind: 'error', text: 'Could not reach rooom. Reload to try again.' };
    state.started = true;
    render(false);
    const first = $('#app input:not([type=hidden])');
    if (first && !state.user) first.focus({ preventScroll: true });
  }

  start();
})();
