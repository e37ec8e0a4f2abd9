// rooom web app, part three: teams and the way into private rooms — the sign-in handoff
// for tenant hosts (/grant), the user's tenants and new organisations (/teams), and one
// tenant's members, roles and audit log (/teams/<slug>). Built on the helpers app.js
// exposes on `window.rooom`; the same rules apply: plain DOM, no inline script or style.
'use strict';

(() => {
  const R = window.rooom;
  if (!R) return;
  const { h, api, ApiError, navLink, when, notice, field, form, card, confirmButton, linkButton, listLoader, go } = R;

  const seg = encodeURIComponent;
  const siteLabel = (url) => String(url || '').replace(/^https?:\/\//, '').replace(/\/$/, '');

  // ---------- roles ----------
  // Strongest first; the server's table (src/domain/access.rs) is the one that decides,
  // this only hides the controls a role cannot use.
  const ROLES = ['owner', 'admin', 'manager', 'member', 'viewer'];
  const ROLE_NAMES = { owner: 'Owner', admin: 'Admin', manager: 'Manager', member: 'Member', viewer: 'Viewer' };
  const rank = (role) => { const i = ROLES.indexOf(role); return i < 0 ? 0 : ROLES.length - i; };
  const roleName = (role) => ROLE_NAMES[role] || role;
  // The roles `mine` may give: those below it, from manager up; never owner.
  const assignable = (mine) => (rank(mine) >= rank('manager') ? ROLES.filter((r) => r !== 'owner' && rank(r) < rank(mine)) : []);
  // Whether `mine` may re-role or remove someone who is `theirs`.
  const manages = (mine, theirs) => rank(mine) >= rank('manager') && theirs !== 'owner' && rank(theirs) < rank(mine);

  // ---------- small helpers ----------
  // A link to a tenant host (another origin): always a new tab, said out loud.
  function external(href, text, attrs = {}) {
    return h('a', { href, target: '_blank', rel: 'noopener noreferrer', ...attrs },
      text, h('span', { 'aria-hidden': 'true' }, ' ↗'), h('span', { class: 'sr-only' }, ' (opens in a new tab)'));
  }

  function stack(title, lead, ...children) {
    return h('div', { class: 'stack' }, h('h1', {}, title), lead, children);
  }

  function inlineError(after, err) {
    const next = after.nextElementSibling;
    if (next && next.classList.contains('inline-error')) next.remove();
    after.after(h('span', { class: 'inline-error', role: 'alert' }, ` ${err.message}`));
  }

  const kindBadge = (kind) => h('span', { class: kind === 'organisation' ? 'badge ok' : 'badge' }, kind === 'organisation' ? 'organisation' : 'personal');
  const roleBadge = (role) => h('span', { class: 'badge', 'data-role': role }, roleName(role));

  // ---------- the sign-in handoff: /grant?tenant=<t>&return=<path> ----------
  // A tenant host sends visitors of a private room here. Once signed in, POST /grants
  // answers the one place to go next (the tenant host trades its one-time code for a
  // grant cookie). Nothing else from the link is ever navigated to.
  const TENANT_RE = /^[a-z0-9-]{1,64}$/;
  // The shape the server checks too: one leading slash, no backslash, no white space
  // or control characters. The server decides; this spares a sign-in for a broken link.
  // eslint-disable-next-line no-control-regex
  const validReturn = (p) => /^\/(?!\/)/.test(p) && !/[\\\s\u0000-\u001f\u007f]/.test(p) && p.length <= 2048;

  // The tenant host's random state for this browser; the code only works back there
  // in the browser holding its cookie.
  const STATE_RE = /^[A-Za-z0-9_-]{32,128}$/;

  function grantParams() {
    const q = new URLSearchParams(location.search);
    const tenant = q.get('tenant') || '';
    const back = q.get('return') || '';
    const state = q.get('state') || '';
    return TENANT_RE.test(tenant) && validReturn(back) && STATE_RE.test(state) ? { tenant, back, state } : null;
  }

  function invalidLink() {
    return [notice('error', 'This link is not valid.'),
      h('p', {}, R.user() ? navLink('/account', 'Go to your account') : navLink('/signin', 'Sign in to rooom'))];
  }

  function viewGrant() {
    const params = grantParams();
    if (!params) return R.page('A private page', null, h('div', { id: 'grant-status' }, invalidLink()));
    if (!R.user()) return grantSignIn(params);
    const box = h('div', { id: 'grant-status', 'aria-busy': 'true', 'aria-live': 'polite' },
      h('p', { class: 'muted' }, `Opening the page on ${params.tenant}…`));
    requestGrant(params, box);
    return R.page('A private page', null, box);
  }

  function requestGrant({ tenant, back, state }, box) {
    api('POST', '/grants', { tenant, return: back, state }).then((out) => {
      if (!box.isConnected) return;
      const target = out && typeof out.location === 'string' ? out.location : '';
      let url = null;
      try { url = new URL(target); } catch { url = null; }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
        box.setAttribute('aria-busy', 'false');
        box.replaceChildren(notice('error', 'rooom gave no place to go next. Open the page again.'));
        return;
      }
      // replace, not assign: Back from the room then skips this page, which would
      // only fetch a new code and go forward again.
      location.replace(target);
    }, (err) => {
      if (!box.isConnected) return;
      box.setAttribute('aria-busy', 'false');
      if (err.status === 404) {
        box.replaceChildren(noAccess(tenant));
      } else if (err.status === 422) {
        box.replaceChildren(...invalidLink());
      } else if (err.code !== 'UNAUTHENTICATED') {
        const again = h('button', { type: 'button', class: 'btn', id: 'grant-retry' }, 'Try again');
        again.addEventListener('click', () => R.render(true));
        box.replaceChildren(notice('error', err.message), h('div', { class: 'actions' }, again));
      }
    });
  }

  function noAccess(tenant) {
    const user = R.user();
    const name = user ? user.username : 'this account';
    const other = h('button', { type: 'button', class: 'btn', id: 'grant-switch' }, 'Sign in with another account');
    other.addEventListener('click', async () => {
      other.disabled = true;
      try {
        await api('POST', '/auth/logout');
      } catch {
        // Ending the session here is what matters; a refused call means it already ended.
      }
      R.session(null);
      R.render(true); // the same link, now with the sign-in form
    });
    return h('div', { id: 'grant-denied' },
      notice('error', `This page is private, or there is nothing at this address. Your account (${name}) has no access to ${tenant}.`),
      h('p', { class: 'muted' }, `Ask an owner or admin of ${tenant} to add ${name}, or sign in with an account that belongs to it.`),
      h('div', { class: 'actions' }, other, navLink('/account', 'Go to your account')));
  }

  // The sign-in form inline on /grant, so the visitor stays on this link: by password
  // or by a code sent by email. Signed in, the view renders again and asks for a grant.
  const grantState = { mode: 'password', email: '' };

  function signedInHere(tr) {
    grantState.mode = 'password';
    grantState.email = '';
    R.session(tr);
    R.render(true);
  }

  function wrongCredentials(err, message, field) {
    if (!(err instanceof ApiError) || err.code !== 'INVALID_CREDENTIALS') return err;
    return new ApiError(err.status, err.code, message, field ? { [field]: [message] } : {});
  }

  function grantSignIn({ tenant }) {
    // A missing room is answered like a private one (so nobody learns which exist): say both.
    const lead = `A page of ${tenant} is private, or there is nothing at this address. Sign in with an account that belongs to ${tenant} to open it.`;
    const switchTo = (mode) => () => { grantState.mode = mode; R.render(true); };
    if (grantState.mode === 'otp' && !grantState.email) {
      const f = form('grant-otp-request', [
        field({ id: 'grant-otp-email', name: 'email', type: 'email', label: 'Email', required: true, autocomplete: 'email' }),
      ], 'Email me a code', async (v) => {
        const email = v.email.trim();
        await api('POST', '/auth/otp/request', { email }, { auth: false });
        grantState.email = email;
        R.flash('ok', `If ${email} belongs to an account, a 6-digit code is on its way. It is valid for 15 minutes.`);
        R.render(true);
      }, { map: { email: 'grant-otp-email' }, after: linkButton('Use my password instead', switchTo('password'), { id: 'grant-otp-back' }) });
      return R.page('Sign in to continue', lead, f);
    }
    if (grantState.mode === 'otp') {
      const f = form('grant-otp-verify', [
        field({
          id: 'grant-otp-code', name: 'code', label: '6-digit code', required: true, autocomplete: 'one-time-code',
          inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: 6, hint: `Sent to ${grantState.email}.`,
        }),
      ], 'Sign in', async (v) => {
        const tr = await api('POST', '/auth/otp/verify', { email: grantState.email, code: v.code.replace(/\s+/g, '') }, { auth: false })
          .catch((err) => { throw wrongCredentials(err, 'That code is wrong, used or expired.'); });
        signedInHere(tr);
      }, {
        map: { code: 'grant-otp-code' },
        after: linkButton('Use another email', () => { grantState.email = ''; R.render(true); }, { id: 'grant-otp-restart' }),
      });
      return R.page('Sign in to continue', lead, f);
    }
    const f = form('grant-signin', [
      field({
        id: 'grant-login', name: 'login', label: 'Username or email', required: true, autocomplete: 'username',
        autocapitalize: 'none', spellcheck: 'false',
      }),
      field({ id: 'grant-password', name: 'password', type: 'password', label: 'Password', required: true, autocomplete: 'current-password' }),
    ], 'Sign in', async (v) => {
      const tr = await api('POST', '/auth/login', { login: v.login.trim(), password: v.password }, { auth: false })
        .catch((err) => { throw wrongCredentials(err, 'That username or email and password do not match.'); });
      signedInHere(tr);
    }, { map: { login: 'grant-login', password: 'grant-password' } });
    return R.page('Sign in to continue', lead, f,
      h('p', { class: 'alt' }, linkButton('Email me a code instead', switchTo('otp'), { id: 'grant-otp' })));
  }

  // ---------- /teams ----------
  function viewTeams() {
    if (R.needsAuth()) return null;
    const lead = h('p', { class: 'lead' }, 'Your own site and the organisations you work in, each with its members and roles.');
    const list = h('div', { id: 'teams' });
    listLoader(list, () => api('GET', '/tenants'), (items) => {
      if (!items.length) return h('p', { class: 'muted' }, 'You belong to no team yet.');
      return h('ul', { class: 'rows' }, items.map((t) => h('li', { class: 'row', 'data-slug': t.slug },
        h('div', { class: 'grow' },
          h('p', { class: 'row-title' }, navLink(`/teams/${t.slug}`, t.display_name || t.slug, { class: 'team-link' }),
            kindBadge(t.kind), roleBadge(t.role)),
          h('p', { class: 'meta' }, siteLabel(t.url), ` · created ${when(t.created_at)}`)),
        external(t.url, ['Open', h('span', { class: 'sr-only' }, ` ${t.display_name || t.slug}`)], { class: 'btn small' }))));
    });

    const host = location.host.replace(/^app\./, '');
    const preview = h('strong', { id: 'team-address' }, `name.${host}`);
    const f = form('team-form', [
      h('div', { class: 'grid' },
        field({
          id: 'team-slug', name: 'slug', label: 'Address', required: true, minlength: 3, maxlength: 32, placeholder: 'studio',
          autocapitalize: 'none', spellcheck: 'false', hint: '3–32 lowercase letters, digits or dashes.',
        }),
        field({ id: 'team-display-name', name: 'display_name', label: 'Name', optional: true, maxlength: 64, placeholder: 'The Studio' })),
      h('p', { class: 'address' }, 'Its site: ', preview),
    ], 'Create organisation', async (v) => {
      const body = { slug: v.slug.trim().toLowerCase() };
      if (v.display_name.trim()) body.display_name = v.display_name.trim();
      const t = await api('POST', '/tenants', body);
      R.flash('ok', `Organisation “${t.display_name || t.slug}” created. Add the people you work with below.`);
      go(`/teams/${t.slug}`);
    }, { map: { slug: 'team-slug', display_name: 'team-display-name' } });
    const input = f.querySelector('#team-slug');
    input.addEventListener('input', () => { preview.textContent = `${input.value.trim().toLowerCase() || 'name'}.${host}`; });

    return stack('Teams', lead,
      card('Your teams', 'teams-card', list),
      card('New organisation', 'new-team',
        h('p', { class: 'muted' }, 'An organisation is a site of its own that several people look after, each in a role.'), f));
  }

  // ---------- /teams/<slug> ----------
  function viewTeam(match) {
    if (R.needsAuth()) return null;
    const slug = match[1];
    const titleEl = h('span', { id: 'team-title' }, slug);
    const body = h('div', { class: 'stack', id: 'team-view', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
    api('GET', `/tenants/${seg(slug)}`).then((t) => {
      if (!body.isConnected) return;
      teamView(t, titleEl, body);
      body.setAttribute('aria-busy', 'false');
    }, (err) => {
      if (!body.isConnected) return;
      body.replaceChildren(notice('error', err.status === 404 ? `There is no team “${slug}” that you belong to.` : err.message),
        h('p', {}, navLink('/teams', 'Back to your teams')));
      body.setAttribute('aria-busy', 'false');
    });
    return h('div', { class: 'stack' },
      h('p', { class: 'crumbs' }, navLink('/teams', '← All teams')),
      h('h1', {}, titleEl),
      body);
  }

  function teamView(t, titleEl, body) {
    const me = R.user();
    const mine = t.role;
    const tbase = `/tenants/${seg(t.slug)}`;
    titleEl.textContent = t.display_name || t.slug;
    document.title = `${t.display_name || t.slug} · rooom`;

    const info = h('div', { id: 'team-info' },
      h('p', { class: 'room-url' }, external(t.url, siteLabel(t.url), { id: 'team-url' }), kindBadge(t.kind)),
      h('p', { class: 'meta', id: 'team-role' }, 'Your role: ', roleBadge(mine)));

    // --- members ---
    const members = h('div', { id: 'members' });
    // The audit log (admins and the owner) follows every change made here.
    const audit = rank(mine) >= rank('admin') ? auditCard(t) : null;
    const changed = () => { if (audit) audit.reload(); };
    const reloadMembers = listLoader(members, () => api('GET', `${tbase}/members`), (items, again) => membersTable(t, items, () => { again(); changed(); }));
    const parts = [info, card('Members', 'members-card', members, roleHelp(mine))];

    const roles = assignable(mine);
    if (roles.length) {
      const status = h('p', { class: 'saved', role: 'status', id: 'member-form-status' });
      const f = form('member-form', [
        h('div', { class: 'grid' },
          field({
            id: 'member-username', name: 'username', label: 'Username', required: true, maxlength: 32,
            autocapitalize: 'none', spellcheck: 'false', hint: 'They find a note in their inbox.',
          }),
          field({ id: 'member-role', name: 'role', label: 'Role', value: roles.includes('member') ? 'member' : roles[0], options: roles.map((r) => [r, roleName(r)]) })),
      ], 'Add member', async (v, f) => {
        status.textContent = '';
        const m = await api('POST', `${tbase}/members`, { username: v.username.trim().toLowerCase(), role: v.role });
        f.reset();
        status.textContent = `Added ${m.username} as ${roleName(m.role).toLowerCase()}.`;
        reloadMembers();
        changed();
      }, { map: { username: 'member-username', role: 'member-role' }, after: status });
      parts.push(card('Add a member', 'add-member', f));
    }

    if (audit) parts.push(audit.card);

    if (mine === 'owner' && t.kind === 'organisation') {
      const del = confirmButton('Delete organisation', 'Really delete it with all its rooms?', async () => {
        await api('DELETE', tbase);
        R.flash('ok', `Organisation “${t.display_name || t.slug}” was deleted.`);
        go('/teams', true);
      }, { id: 'team-delete' });
      const danger = card('Delete organisation', 'team-danger',
        h('p', { class: 'muted' }, 'Deletes the organisation, its site, every room, module and media file for good. Its address becomes free for anyone.'),
        h('div', { class: 'actions' }, del));
      danger.classList.add('danger-zone');
      parts.push(danger);
    }

    body.replaceChildren(...parts);

    // again(): reload the members (and the audit log) after a change.
    function membersTable(tenant, items, again) {
      if (!items.length) return h('p', { class: 'muted' }, 'No members.');
      const rows = items.map((m) => {
        const self = me && m.username === me.username;
        const who = h('td', {},
          h('span', { class: 'row-title' }, m.display_name || m.username),
          self ? h('span', { class: 'badge ok' }, 'you') : null,
          h('br'), h('span', { class: 'meta' }, `@${m.username}`));
        const status = h('span', { class: 'saved', role: 'status' });
        let roleCell;
        if (!self && manages(mine, m.role)) {
          const select = h('select', { class: 'role-select', name: 'role', 'aria-label': `Role of ${m.username}` },
            assignable(mine).map((r) => h('option', { value: r, selected: r === m.role }, roleName(r))));
          select.value = m.role;
          select.addEventListener('change', async () => {
            const wanted = select.value;
            status.textContent = '';
            select.disabled = true;
            try {
              const fresh = await api('PATCH', `${tbase}/members/${seg(m.username)}`, { role: wanted });
              m.role = fresh && fresh.role ? fresh.role : wanted;
              select.value = m.role;
              select.closest('tr').setAttribute('data-role', m.role);
              status.textContent = 'Saved.';
              const next = status.nextElementSibling;
              if (next && next.classList.contains('inline-error')) next.remove();
              changed();
            } catch (err) {
              select.value = m.role;
              inlineError(status, err);
              if (err.code === 'MEMBER_CHANGED') setTimeout(again, 1500);
            } finally {
              select.disabled = false;
            }
          });
          roleCell = h('td', {}, select, ' ', status);
        } else {
          roleCell = h('td', {}, roleBadge(m.role));
        }
        let action = null;
        if (self && m.role !== 'owner') {
          action = confirmButton('Leave', `Really leave ${tenant.slug}?`, async () => {
            await api('DELETE', `${tbase}/members/${seg(m.username)}`);
            R.flash('ok', `You left ${tenant.display_name || tenant.slug}.`);
            go('/teams', true);
          }, { id: 'team-leave' });
        } else if (!self && manages(mine, m.role)) {
          action = confirmButton('Remove', 'Really remove?', async () => {
            await api('DELETE', `${tbase}/members/${seg(m.username)}`);
            again();
          }, { 'aria-label': `Remove ${m.username}` });
        }
        return h('tr', { 'data-username': m.username, 'data-role': m.role },
          who, roleCell, h('td', { class: 'meta' }, when(m.created_at)), h('td', { class: 'cell-actions' }, action));
      });
      return h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'members-table' },
        h('caption', { class: 'sr-only' }, `Members of ${tenant.slug}`),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Member'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, 'Since'),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', {}, rows)));
    }
  }

  function roleHelp(mine) {
    const what = {
      owner: 'You own this team: you manage everyone, and only you can delete it.',
      admin: 'As an admin you change settings and room visibility, read the audit log and manage managers, members and viewers.',
      manager: 'As a manager you add, re-role and remove members and viewers.',
      member: 'As a member you create rooms and write files, modules and media.',
      viewer: 'As a viewer you can look at everything, private rooms too.',
    }[mine];
    return h('details', { class: 'publish' },
      h('summary', {}, 'What the roles may do'),
      h('ul', { class: 'role-help' },
        h('li', {}, h('strong', {}, 'Viewer'), ': reads the rooms (private ones too), files, modules and media.'),
        h('li', {}, h('strong', {}, 'Member'), ': also creates rooms and writes files, room data, modules and media.'),
        h('li', {}, h('strong', {}, 'Manager'), ': also adds, re-roles and removes members and viewers.'),
        h('li', {}, h('strong', {}, 'Admin'), ': also changes settings and room visibility, deletes rooms and modules, reads the audit log.'),
        h('li', {}, h('strong', {}, 'Owner'), ': one per team; also manages admins and deletes the team.')),
      what ? h('p', { class: 'muted' }, what) : null);
  }

  // ---------- the audit log ----------
  const ACTIONS = {
    'auth.sign_in': 'Signed in',
    'auth.sign_in_failed': 'Sign-in failed',
    'account.password_changed': 'Password changed',
    'account.password_reset': 'Password reset',
    'account.email_changed': 'Email changed',
    'token.created': 'Token created',
    'token.deleted': 'Token deleted',
    'tenant.created': 'Team created',
    'tenant.updated': 'Settings changed',
    'member.added': 'Member added',
    'member.role_changed': 'Role changed',
    'member.removed': 'Member removed',
    'room.created': 'Room created',
    'room.visibility_changed': 'Visibility changed',
    'room.deleted': 'Room deleted',
    'module.deleted': 'Module deleted',
    'media.deleted': 'Media deleted',
    'grant.issued': 'Private access granted',
    'room.private_read': 'Private room opened',
  };

  // A short line for an event's details: "viewer → member", "role: viewer", …
  function describeDetails(d) {
    if (!d || typeof d !== 'object') return '';
    const scalar = (v) => v == null || ['string', 'number', 'boolean'].includes(typeof v);
    if ('from' in d && 'to' in d && scalar(d.from) && scalar(d.to)) return `${d.from ?? '—'} → ${d.to ?? '—'}`;
    return Object.entries(d)
      .filter(([k, v]) => scalar(v) && v != null && k !== 'grant' && k !== 'id')
      .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v}`)
      .join(' · ');
  }

  function auditCard(t) {
    const box = h('div', { id: 'audit', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
    const tbody = h('tbody');
    const more = h('button', { type: 'button', class: 'btn', id: 'audit-more', hidden: true }, 'Load more');
    const again = h('button', { type: 'button', class: 'btn', id: 'audit-refresh' }, 'Show newest');
    const table = h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'audit-table' },
      h('caption', { class: 'sr-only' }, `Audit log of ${t.slug}, newest first`),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Who'), h('th', { scope: 'col' }, 'What'),
        h('th', { scope: 'col' }, 'Target'), h('th', { scope: 'col' }, 'Details'))),
      tbody));
    let cursor = null;

    const row = (e) => {
      const details = describeDetails(e.details);
      return h('tr', { 'data-id': e.id, 'data-action': e.action },
        h('td', { class: 'meta nowrap' }, h('time', { datetime: e.time }, when(e.time))),
        h('td', { class: 'audit-actor' }, e.actor && e.actor.username ? e.actor.username : h('span', { class: 'muted', title: 'No user: rooom itself' }, '—')),
        h('td', { class: 'audit-action', title: e.action }, ACTIONS[e.action] || e.action),
        h('td', { class: 'audit-target' }, e.target || '—'),
        h('td', { class: 'meta' }, details, e.ip ? [details ? h('br') : null, `from ${e.ip}`] : null));
    };

    const loadPage = async (first) => {
      box.setAttribute('aria-busy', 'true');
      more.disabled = true;
      try {
        const q = new URLSearchParams({ limit: '50' });
        if (!first && cursor) q.set('cursor', cursor);
        const page = await api('GET', `/tenants/${seg(t.slug)}/audit?${q}`);
        const items = (page && page.items) || [];
        if (first) tbody.replaceChildren();
        tbody.append(...items.map(row));
        cursor = (page && page.cursor) || null;
        more.hidden = !cursor;
        if (!tbody.children.length) box.replaceChildren(h('p', { class: 'muted' }, 'Nothing recorded yet.'));
        else if (first) box.replaceChildren(table, h('div', { class: 'actions' }, more, again));
        if (!first && items.length) {
          const firstNew = tbody.children[tbody.children.length - items.length];
          firstNew.setAttribute('tabindex', '-1');
          firstNew.focus();
        }
      } catch (err) {
        if (first) box.replaceChildren(notice('error', err.message));
        else inlineError(more, err);
      } finally {
        more.disabled = false;
        box.setAttribute('aria-busy', 'false');
      }
    };
    // One load at a time; a reload asked for meanwhile runs after it.
    let running = null;
    let queued = false;
    const load = (first) => {
      if (running) {
        if (first) queued = true;
        return running;
      }
      running = loadPage(first).finally(() => {
        running = null;
        if (queued) { queued = false; load(true); }
      });
      return running;
    };
    more.addEventListener('click', () => load(false));
    again.addEventListener('click', () => load(true));
    load(true);

    return {
      card: card('Audit log', 'audit-card',
        h('p', { class: 'muted' }, 'Who did what in this team, newest first. Events are kept for 400 days.'), box),
      reload: () => load(true),
    };
  }

  // ---------- wire up ----------
  R.route('/grant', viewGrant);
  R.route('/teams', viewTeams);
  R.route(/^\/teams\/([a-z0-9-]{1,32})$/, viewTeam);
  R.nav('/teams', 'Teams');
})();
