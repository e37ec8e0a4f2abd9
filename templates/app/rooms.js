// rooom web app, part two: the managers for the signed-in user's own site — rooms
// (/rooms, /rooms/<slug>), media (/media) and modules (/modules). Built on the helpers
// app.js exposes on `window.rooom`; the same rules apply: plain DOM, no inline script
// or style. Pictures on the tenant host cannot be shown here (the app's CSP allows
// images from the app itself only), so files are linked, never previewed.
'use strict';

(() => {
  const R = window.rooom;
  if (!R) return;
  const { h, api, upload, ApiError, navLink, when, notice, field, form, card, confirmButton, listLoader, go } = R;

  const MULTIPART_OVER = 50 * 1024 * 1024; // larger media go up in parts
  const PART_BYTES = 8 * 1024 * 1024;

  // ---------- small helpers ----------
  function bytes(n) {
    if (n == null || Number.isNaN(Number(n))) return '—';
    let v = Number(n);
    if (v < 1024) return `${v} ${v === 1 ? 'byte' : 'bytes'}`;
    const units = ['KB', 'MB', 'GB', 'TB'];
    let i = -1;
    do { v /= 1024; i++; } while (v >= 1024 && i < units.length - 1);
    return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
  }
  const number = (n) => Number(n || 0).toLocaleString();
  const plural = (n, one, many) => `${number(n)} ${n === 1 ? one : many}`;
  // A file path in a URL: each segment percent-encoded, the slashes kept.
  const enc = (path) => path.split('/').map(encodeURIComponent).join('/');
  const seg = encodeURIComponent;

  // A link to the tenant host (another origin): always a new tab, said out loud.
  function external(href, text, attrs = {}) {
    return h('a', { href, target: '_blank', rel: 'noopener noreferrer', ...attrs },
      text, h('span', { 'aria-hidden': 'true' }, ' ↗'), h('span', { class: 'sr-only' }, ' (opens in a new tab)'));
  }

  function stack(title, lead, ...children) {
    return h('div', { class: 'stack' }, h('h1', {}, title), lead, children);
  }

  // The error text for one file: field reasons (422) if there are any, else the message.
  function explain(err) {
    const why = Object.entries(err.fields || {}).map(([k, v]) => `${k} ${[].concat(v).join(', ')}`);
    return why.length ? why.join('; ') : err.message;
  }

  function inlineError(after, err) {
    const next = after.nextElementSibling;
    if (next && next.classList.contains('inline-error')) next.remove();
    after.after(h('span', { class: 'inline-error', role: 'alert' }, ` ${err.message}`));
  }

  // A read-only field with its text and a Copy button.
  function copyField(value, label) {
    const out = h('input', { type: 'text', readonly: true, value, 'aria-label': label, spellcheck: 'false' });
    const copy = h('button', { type: 'button', class: 'btn small', 'aria-label': `Copy ${label.toLowerCase()}` }, 'Copy');
    copy.addEventListener('click', async () => {
      out.select();
      try { await navigator.clipboard.writeText(value); copy.textContent = 'Copied'; } catch { copy.textContent = 'Press Ctrl+C'; }
      setTimeout(() => { copy.textContent = 'Copy'; }, 2500);
    });
    return h('div', { class: 'copyrow' }, out, copy);
  }

  // ---------- the personal tenant ----------
  // GET /tenants gives the slug; GET /tenants/{t} adds the entrance room (home_room).
  const cache = { userId: null, tenant: null };
  function personalTenant(fresh = false) {
    const u = R.user();
    if (fresh || cache.userId !== u.id || !cache.tenant) {
      cache.userId = u.id;
      const p = api('GET', '/tenants').then((list) => {
        const t = (list || []).find((x) => x.kind === 'personal') || (list || [])[0];
        if (!t) throw new ApiError(404, 'NO_TENANT', 'Your account has no site.');
        return api('GET', `/tenants/${seg(t.slug)}`);
      });
      cache.tenant = p;
      p.catch(() => { if (cache.tenant === p) cache.tenant = null; });
    }
    return cache.tenant;
  }
  const base = (t) => `/tenants/${seg(t.slug)}`;
  const siteLabel = (url) => url.replace(/^https?:\/\//, '').replace(/\/$/, '');

  // Loads the tenant, then fills `box` with fill(tenant); errors land in the box.
  function withTenant(box, fill, fresh = false) {
    return personalTenant(fresh).then((t) => { if (box.isConnected) return fill(t); return null; })
      .catch((err) => {
        if (!box.isConnected) return;
        box.replaceChildren(notice('error', err.message));
        box.setAttribute('aria-busy', 'false');
      });
  }

  function usageView(u) {
    const line = (id, label, used, limit, fmt) => {
      const text = limit == null ? `${fmt(used)} (no limit)` : `${fmt(used)} of ${fmt(limit)}`;
      return h('div', { class: 'usage-line', id: `usage-${id}` },
        h('div', { class: 'usage-label' }, h('span', { id: `usage-${id}-label` }, label), h('span', { class: 'muted' }, text)),
        limit == null ? null : h('meter', {
          min: 0, max: limit, low: limit * 0.8, high: limit * 0.95, optimum: 0, value: Math.min(used, limit),
          'aria-labelledby': `usage-${id}-label`, 'aria-valuetext': text,
        }));
    };
    const l = u.limits || {};
    return [
      line('bytes', 'Storage', u.bytes, l.bytes, bytes),
      line('files', 'Files', u.files, l.files, number),
      line('rooms', 'Rooms', u.rooms, l.rooms, number),
      h('p', { class: 'meta' }, `Plan: ${u.plan || 'free'}`, l.file_bytes ? ` · one file up to ${bytes(l.file_bytes)}` : ''),
    ];
  }

  // ---------- uploads ----------
  // One line per file of an upload: its path, a progress bar and what happened.
  function progressRow(path) {
    const bar = h('progress', { max: 100, value: 0, 'aria-label': `Upload of ${path}` });
    const status = h('p', { class: 'meta' }, 'Waiting');
    const li = h('li', { class: 'row upload', 'data-path': path },
      h('div', { class: 'grow' }, h('p', { class: 'row-title' }, path), status), bar);
    return {
      li,
      progress(loaded, total) {
        bar.value = total ? Math.round((loaded / total) * 100) : 0;
        status.textContent = `Sending… ${bytes(loaded)} of ${bytes(total)}`;
      },
      done(text) { bar.value = 100; li.classList.add('done'); status.textContent = text; },
      fail(text) { li.classList.add('failed'); bar.hidden = true; status.textContent = text; },
    };
  }

  const cleanFolder = (s) => String(s || '').trim().replace(/\\/g, '/').split('/').filter((x) => x && x !== '.').join('/');
  const joinPath = (folder, name) => (folder ? `${folder}/${name}` : name);

  // A form to upload files, or a whole folder, into an optional folder. send(path,
  // file, onProgress) uploads one file; files go one after another. maxBytes() is the
  // plan's per-file size, checked before any byte moves.
  function uploader(id, { send, maxBytes, onUploaded, folderHint }) {
    const progress = h('ul', { class: 'rows uploads', id: `${id}-progress`, 'aria-label': 'Upload progress' });
    const status = h('p', { class: 'saved', id: `${id}-status`, role: 'status' });
    const filesField = field({ id: `${id}-files`, name: 'files', type: 'file', label: 'Files', multiple: true, hint: 'Choose one or more.' });
    const dirField = field({ id: `${id}-dir`, name: 'dir', type: 'file', label: 'Or a whole folder', hint: 'Its files keep their sub-folders; hidden files are skipped.' });
    const filesInput = filesField.querySelector('input');
    const dirInput = dirField.querySelector('input');
    dirInput.setAttribute('webkitdirectory', '');
    return form(id, [
      h('div', { class: 'grid' }, filesField, dirField),
      field({
        id: `${id}-folder`, name: 'folder', label: 'Into folder', optional: true, placeholder: 'images',
        autocapitalize: 'none', spellcheck: 'false', hint: folderHint,
      }),
      progress,
    ], 'Upload', async (v) => {
      const folder = cleanFolder(v.folder);
      const picked = [...filesInput.files].map((file) => ({ path: joinPath(folder, file.name), file }));
      for (const file of dirInput.files) {
        const parts = (file.webkitRelativePath || file.name).split('/').slice(1); // without the folder itself
        if (!parts.length || parts.some((p) => p.startsWith('.'))) continue;
        picked.push({ path: joinPath(folder, parts.join('/')), file });
      }
      if (!picked.length) throw new ApiError(0, 'CLIENT', 'Choose some files first.', { files: ['Choose one or more files, or a folder.'] });
      status.textContent = '';
      status.className = 'saved';
      const limit = maxBytes && maxBytes();
      const rows = picked.map((p) => ({ ...p, row: progressRow(p.path) }));
      progress.replaceChildren(...rows.map((r) => r.row.li));
      let ok = 0;
      for (const { path, file, row } of rows) {
        if (limit && file.size > limit) {
          row.fail(`Too large: one file may be at most ${bytes(limit)} on your plan.`);
          continue;
        }
        try {
          row.progress(0, file.size);
          await send(path, file, row.progress);
          row.done(`Uploaded · ${bytes(file.size)}`);
          ok++;
        } catch (err) {
          row.fail(explain(err));
          if (err.code === 'UNAUTHENTICATED') break;
        }
      }
      filesInput.value = '';
      dirInput.value = '';
      const failed = rows.length - ok;
      status.className = failed ? 'inline-error' : 'saved';
      status.textContent = !failed ? `${plural(ok, 'file', 'files')} uploaded.`
        : ok ? `${plural(ok, 'file', 'files')} uploaded, ${number(failed)} failed: see the list above.`
          : `Nothing uploaded: ${plural(failed, 'file', 'files')} failed, see the list above.`;
      if (ok && onUploaded) onUploaded();
    }, { map: { files: `${id}-files`, folder: `${id}-folder`, path: `${id}-folder` }, after: status });
  }

  // ---------- rooms ----------
  function viewRooms() {
    if (R.needsAuth()) return null;
    const lead = h('p', { class: 'lead', id: 'rooms-lead' }, 'Each room is a small website of its own.');
    const usage = h('div', { id: 'usage', class: 'usage', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
    const list = h('div', { id: 'rooms' }, h('p', { class: 'muted' }, 'Loading…'));

    withTenant(list, (t) => {
      lead.replaceChildren('Each room is a small website of its own at ',
        external(t.url, siteLabel(t.url), { id: 'site-url' }), '/rooms/…');
      api('GET', `${base(t)}/usage`)
        .then((u) => usage.replaceChildren(...usageView(u)), (err) => usage.replaceChildren(notice('error', err.message)))
        .finally(() => usage.setAttribute('aria-busy', 'false'));
      return listLoader(list, () => api('GET', `${base(t)}/rooms`), (rooms) => {
        if (!rooms.length) return h('p', { class: 'muted' }, 'No rooms yet. Create your first one below.');
        return h('ul', { class: 'rows' }, rooms.map((r) => h('li', { class: 'row', 'data-slug': r.slug },
          h('div', { class: 'grow' },
            h('p', { class: 'row-title' }, navLink(`/rooms/${r.slug}`, r.title || r.slug, { class: 'room-link' }),
              h('span', { class: r.visibility === 'private' ? 'badge warn' : 'badge' }, r.visibility),
              t.home_room === r.slug ? h('span', { class: 'badge ok' }, 'entrance') : null),
            h('p', { class: 'meta' }, [
              `/rooms/${r.slug}/`, bytes(r.size), r.files != null ? plural(r.files, 'file', 'files') : null,
              `updated ${when(r.updated_at)}`,
            ].filter(Boolean).join(' · '))),
          external(r.url, ['Open', h('span', { class: 'sr-only' }, ` ${r.title || r.slug}`)], { class: 'btn small' }))));
      });
    }, true).then(() => {
      if (usage.getAttribute('aria-busy') === 'true' && list.querySelector('.notice.error')) {
        usage.replaceChildren();
        usage.setAttribute('aria-busy', 'false');
      }
    });

    const f = form('room-form', [
      h('div', { class: 'grid' },
        field({
          id: 'room-slug', name: 'slug', label: 'Address', required: true, maxlength: 64, placeholder: 'my-zine',
          autocapitalize: 'none', spellcheck: 'false', hint: 'Lowercase letters, digits and dashes: /rooms/<address>/',
        }),
        field({ id: 'room-title', name: 'title', label: 'Title', optional: true, maxlength: 100, placeholder: 'My zine' })),
      field({
        id: 'room-visibility', name: 'visibility', label: 'Who can see it',
        options: [['public', 'Everyone (public)'], ['private', 'Only me and people I add (private)']],
      }),
    ], 'Create room', async (v) => {
      const t = await personalTenant();
      const body = { slug: v.slug.trim().toLowerCase(), visibility: v.visibility };
      if (v.title.trim()) body.title = v.title.trim();
      const room = await api('POST', `${base(t)}/rooms`, body);
      R.flash('ok', `Room “${room.title}” created with a starter index.html. Upload your files here.`);
      go(`/rooms/${room.slug}`);
    }, { map: { slug: 'room-slug', title: 'room-title', visibility: 'room-visibility' } });

    return stack('Rooms', lead,
      card('Usage', 'usage-card', usage),
      card('Your rooms', 'rooms-card', list),
      card('New room', 'new-room', f));
  }

  function viewRoom(match) {
    if (R.needsAuth()) return null;
    const slug = match[1];
    const titleEl = h('span', { id: 'room-title-view' }, slug);
    const body = h('div', { class: 'stack', id: 'room-view', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
    withTenant(body, async (t) => {
      let room;
      try {
        room = await api('GET', `${base(t)}/rooms/${seg(slug)}`);
      } catch (err) {
        body.replaceChildren(notice('error', err.status === 404 ? `There is no room “${slug}”.` : err.message),
          h('p', {}, navLink('/rooms', 'Back to your rooms')));
        body.setAttribute('aria-busy', 'false');
        return;
      }
      if (!body.isConnected) return;
      roomView(t, room, titleEl, body);
      body.setAttribute('aria-busy', 'false');
    });
    return h('div', { class: 'stack' },
      h('p', { class: 'crumbs' }, navLink('/rooms', '← All rooms')),
      h('h1', {}, titleEl),
      body);
  }

  function roomView(t, room, titleEl, body) {
    const roomPath = () => `${base(t)}/rooms/${seg(room.slug)}`;
    const info = h('div', { id: 'room-info' });
    const showInfo = () => {
      titleEl.textContent = room.title || room.slug;
      document.title = `${room.title || room.slug} · rooom`;
      info.replaceChildren(...[
        h('p', { class: 'room-url' }, external(room.url, siteLabel(room.url), { id: 'room-url' }),
          h('span', { class: room.visibility === 'private' ? 'badge warn' : 'badge' }, room.visibility),
          t.home_room === room.slug ? h('span', { class: 'badge ok', id: 'room-entrance-badge' }, 'entrance') : null),
        h('p', { class: 'meta' }, [bytes(room.size), room.files != null ? plural(room.files, 'file', 'files') : null,
          `updated ${when(room.updated_at)}`].filter(Boolean).join(' · ')),
        room.visibility === 'private'
          ? h('p', { class: 'hint' }, 'Private: visitors sign in to rooom first, and only you and people you add may look.')
          : null,
      ].filter(Boolean));
    };
    const refreshRoom = () => api('GET', roomPath()).then((r) => { room = r; showInfo(); }, () => {});
    showInfo();

    // --- files ---
    const list = h('div', { id: 'room-files' });
    let limit = null;
    api('GET', `${base(t)}/usage`).then((u) => { limit = u.limits && u.limits.file_bytes; }, () => {});
    const reloadFiles = listLoader(list, () => api('GET', `${roomPath()}/files`), (files, again) => {
      if (!files.length) return h('p', { class: 'muted' }, 'No files yet. Upload an index.html to start.');
      return h('ul', { class: 'rows' }, files.map((file) => h('li', { class: 'row', 'data-path': file.path },
        h('div', { class: 'grow' },
          h('p', { class: 'row-title' }, external(room.url + enc(file.path), file.path)),
          h('p', { class: 'meta' }, [bytes(file.size), file.content_type, file.updated_at ? `updated ${when(file.updated_at)}` : null]
            .filter(Boolean).join(' · '))),
        confirmButton('Delete', 'Really delete?', async () => {
          await api('DELETE', `${roomPath()}/files/${enc(file.path)}`);
          again();
          refreshRoom();
        }, { 'aria-label': `Delete ${file.path}` }))));
    });
    const up = uploader('room-upload', {
      send: (path, file, onProgress) => upload('PUT', `${roomPath()}/files/${enc(path)}`, file, { onProgress }),
      maxBytes: () => limit,
      onUploaded: () => { reloadFiles(); refreshRoom(); },
      folderHint: 'Leave empty for the top of the room; index.html there is the room’s front page.',
    });

    // --- settings: title, visibility, address ---
    const saved = h('p', { class: 'saved', role: 'status' });
    const settings = form('room-settings', [
      field({ id: 'room-settings-title', name: 'title', label: 'Title', required: true, maxlength: 100, value: room.title || '' }),
      field({
        id: 'room-settings-visibility', name: 'visibility', label: 'Who can see it', value: room.visibility,
        options: [['public', 'Everyone (public)'], ['private', 'Only me and people I add (private)']],
      }),
      field({
        id: 'room-settings-slug', name: 'slug', label: 'Address', required: true, maxlength: 64, value: room.slug,
        autocapitalize: 'none', spellcheck: 'false', hint: 'Changing it moves the room to /rooms/<address>/; links to the old address stop working.',
      }),
    ], 'Save', async (v) => {
      saved.textContent = '';
      const patch = {};
      if (v.title.trim() !== room.title) patch.title = v.title.trim();
      if (v.visibility !== room.visibility) patch.visibility = v.visibility;
      const newSlug = v.slug.trim().toLowerCase();
      if (newSlug !== room.slug) patch.slug = newSlug;
      if (!Object.keys(patch).length) { saved.textContent = 'Nothing to save.'; return; }
      const old = room.slug;
      room = await api('PATCH', roomPath(), patch);
      if (room.slug !== old) {
        if (t.home_room === old) t.home_room = room.slug;
        history.replaceState(null, '', `/rooms/${room.slug}`);
        reloadFiles();
      }
      showInfo();
      showEntrance();
      saved.textContent = 'Saved.';
    }, {
      map: { title: 'room-settings-title', visibility: 'room-settings-visibility', slug: 'room-settings-slug' },
      after: saved,
    });

    // --- entrance ---
    const entrance = h('div', { id: 'room-entrance' });
    const showEntrance = () => {
      if (t.home_room === room.slug) {
        entrance.replaceChildren(h('p', {}, 'This room is your entrance: people see it at ',
          external(t.url, siteLabel(t.url)), '.'));
        return;
      }
      const b = h('button', { type: 'button', class: 'btn', id: 'room-make-entrance' }, 'Make this the entrance');
      b.addEventListener('click', async () => {
        b.disabled = true;
        try {
          const fresh = await api('PATCH', base(t), { home_room: room.slug });
          t.home_room = fresh.home_room;
          showInfo();
          showEntrance();
          entrance.prepend(notice('ok', 'Done: this room is now your entrance.'));
        } catch (err) {
          b.disabled = false;
          inlineError(b, err);
        }
      });
      entrance.replaceChildren(h('p', { class: 'muted' }, `Your entrance is what people see at ${siteLabel(t.url)}; now it is “${t.home_room || 'none'}”.`),
        h('div', { class: 'actions' }, b));
    };
    showEntrance();

    // --- delete ---
    const del = confirmButton('Delete this room', 'Really delete it and all its files?', async () => {
      try {
        await api('DELETE', roomPath());
      } catch (err) {
        if (err.code === 'ROOM_IS_HOME') {
          throw new ApiError(err.status, err.code, 'This room is your entrance and cannot be deleted. Make another room the entrance first.');
        }
        throw err;
      }
      R.flash('ok', `Room “${room.title || room.slug}” was deleted.`);
      go('/rooms', true);
    }, { id: 'room-delete' });
    const danger = card('Delete room', 'room-danger',
      h('p', { class: 'muted' }, 'Deletes the room, its files and its history for good.'), h('div', { class: 'actions' }, del));
    danger.classList.add('danger-zone');

    body.replaceChildren(info,
      card('Files', 'files-card', list, h('h3', {}, 'Upload'), up),
      card('Settings', 'room-settings-card', settings, h('h3', {}, 'Entrance'), entrance),
      danger);
  }

  // ---------- media ----------
  // Small files go up in one PUT; large ones through the multipart upload API.
  async function sendMedia(t, path, file, onProgress) {
    const url = `${base(t)}/media/${enc(path)}`;
    if (file.size <= MULTIPART_OVER) return upload('PUT', url, file, { onProgress });
    const started = await api('POST', `${url}/uploads`);
    const id = seg(started.id);
    try {
      let sent = 0;
      for (let n = 1; sent < file.size; n++) {
        const part = file.slice(sent, Math.min(sent + PART_BYTES, file.size));
        const done = sent;
        await upload('PUT', `${url}/uploads/${id}/${n}`, part, { onProgress: (l) => onProgress(done + l, file.size) });
        sent += part.size;
      }
      return await api('POST', `${url}/uploads/${id}/complete`);
    } catch (err) {
      api('DELETE', `${url}/uploads/${id}`).catch(() => {});
      throw err;
    }
  }

  function viewMedia() {
    if (R.needsAuth()) return null;
    const lead = h('p', { class: 'lead' }, 'Pictures, sound, video, fonts and other files to use in your rooms.');
    const list = h('div', { id: 'media', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
    const upBox = h('div', { id: 'media-upload-box' });

    withTenant(list, (t) => {
      lead.append(' Everyone can see them; the library: ', external(`${t.url}media/index.html`, `${siteLabel(t.url)}/media/`), '.');
      const rows = h('ul', { class: 'rows' });
      const more = h('button', { type: 'button', class: 'btn', id: 'media-more' }, 'More');
      let cursor = null;
      const item = (m) => {
        const li = h('li', { class: 'row media-item', 'data-path': m.path },
          h('div', { class: 'grow' },
            h('p', { class: 'row-title' }, external(m.url, m.path)),
            h('p', { class: 'meta' }, [bytes(m.size), m.content_type, `added ${when(m.created_at)}`].join(' · ')),
            copyField(m.url, `Address of ${m.path}`)),
          confirmButton('Delete', 'Really delete?', async () => {
            await api('DELETE', `${base(t)}/media/${enc(m.path)}`);
            li.remove();
            if (!rows.children.length && !cursor) list.replaceChildren(h('p', { class: 'muted' }, 'No media yet.'));
          }, { 'aria-label': `Delete ${m.path}` }));
        return li;
      };
      const loadPage = async (first) => {
        list.setAttribute('aria-busy', 'true');
        more.disabled = true;
        try {
          const q = first || !cursor ? '' : `?cursor=${seg(cursor)}`;
          const page = await api('GET', `${base(t)}/media${q}`);
          if (first) rows.replaceChildren();
          const items = page.items || [];
          rows.append(...items.map(item));
          cursor = page.cursor || null;
          more.hidden = !cursor;
          if (!rows.children.length) list.replaceChildren(h('p', { class: 'muted' }, 'No media yet.'));
          else if (first) list.replaceChildren(rows, h('div', { class: 'actions' }, more));
          if (!first && items.length) {
            // Move focus to the first new item so keyboard users continue from there.
            const link = items.length && rows.children[rows.children.length - items.length].querySelector('a');
            if (link) link.focus();
          }
        } catch (err) {
          if (first) list.replaceChildren(notice('error', err.message));
          else inlineError(more, err);
        } finally {
          more.disabled = false;
          list.setAttribute('aria-busy', 'false');
        }
      };
      more.addEventListener('click', () => loadPage(false));
      loadPage(true);
      let limit = null;
      api('GET', `${base(t)}/usage`).then((u) => { limit = u.limits && u.limits.file_bytes; }, () => {});
      upBox.replaceChildren(uploader('media-upload', {
        send: (path, file, onProgress) => sendMedia(t, path, file, onProgress),
        maxBytes: () => limit,
        onUploaded: () => loadPage(true),
        folderHint: 'For example images or fonts: the file is then at /media/images/<name>.',
      }));
    });

    return stack('Media', lead,
      card('Upload', 'media-upload-card', upBox),
      card('Your media', 'media-card', list));
  }

  // ---------- modules ----------
  const ARCHIVE_TYPES = [[/\.zip$/i, 'application/zip'], [/\.(tar\.gz|tgz)$/i, 'application/gzip'], [/\.tar$/i, 'application/x-tar']];

  function publishForm(t, m, onPublished) {
    const id = `publish-${m.name}`;
    const versionId = `${id}-version`;
    const fileId = `${id}-file`;
    const progress = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': `Upload of ${m.name}` });
    const done = h('p', { class: 'saved', role: 'status' });
    const f = form(id, [
      h('div', { class: 'grid' },
        field({
          id: fileId, name: 'archive', type: 'file', label: 'Archive', accept: '.zip,.tar,.tar.gz,.tgz',
          hint: '.zip, .tar or .tar.gz with module.json at the top.',
        }),
        field({
          id: versionId, name: 'version', label: 'Version', required: true, placeholder: '1.0.0', maxlength: 64,
          autocapitalize: 'none', spellcheck: 'false', hint: 'As in module.json; published versions never change.',
        })),
      progress,
    ], 'Publish', async (v) => {
      done.textContent = '';
      const file = v.archive instanceof File && v.archive.name ? v.archive : null;
      if (!file) throw new ApiError(0, 'CLIENT', 'Choose an archive first.', { archive: ['Choose a .zip, .tar or .tar.gz file.'] });
      const version = v.version.trim();
      if (!version) throw new ApiError(0, 'CLIENT', 'Enter the version.', { version: ['Enter the version from module.json, e.g. 1.0.0.'] });
      const type = (ARCHIVE_TYPES.find(([re]) => re.test(file.name)) || [null, 'application/octet-stream'])[1];
      progress.hidden = false;
      progress.value = 0;
      try {
        const out = await upload('PUT', `${base(t)}/modules/${seg(m.name)}/versions/${seg(version)}`, file, {
          contentType: type,
          onProgress: (l, total) => { progress.value = total ? Math.round((l / total) * 100) : 0; },
        });
        done.textContent = `Published ${m.name} ${out.version || version}.`;
        onPublished();
      } catch (err) {
        if (err.code === 'VERSION_EXISTS') throw new ApiError(err.status, err.code, err.message, { version: [`${version} is already published; versions never change, so publish a new one.`] });
        throw err;
      } finally {
        progress.hidden = true;
      }
    }, { map: { version: versionId, archive: fileId, body: fileId }, after: done });
    // A file named like name-1.2.0.zip fills in the version.
    const fileInput = f.querySelector(`#${CSS.escape(fileId)}`);
    const versionInput = f.querySelector(`#${CSS.escape(versionId)}`);
    fileInput.addEventListener('change', () => {
      const m2 = /(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\.(?:zip|tar|tar\.gz|tgz)$/i.exec((fileInput.files[0] || {}).name || '');
      if (m2 && !versionInput.value.trim()) versionInput.value = m2[1];
    });
    return f;
  }

  function viewModules() {
    if (R.needsAuth()) return null;
    const lead = h('p', { class: 'lead' }, 'Reusable bundles of files — a style sheet, a script, a widget — with versions that never change.');
    const list = h('div', { id: 'modules' }, h('p', { class: 'muted' }, 'Loading…'));
    let reload = () => {};

    withTenant(list, (t) => {
      lead.append(' They are served from ', external(`${t.url}mod/`, `${siteLabel(t.url)}/mod/`), '.');
      reload = listLoader(list, () => api('GET', `${base(t)}/modules`), (mods, again) => {
        if (!mods.length) return h('p', { class: 'muted' }, 'No modules yet.');
        return h('ul', { class: 'rows' }, mods.map((m) => {
          const versions = (m.versions || []).slice().sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
          return h('li', { class: 'row module', 'data-name': m.name },
            h('div', { class: 'grow' },
              h('p', { class: 'row-title' }, m.name,
                m.latest ? h('span', { class: 'badge ok' }, m.latest) : h('span', { class: 'badge warn' }, 'no version yet'),
                m.visibility === 'private' ? h('span', { class: 'badge warn' }, 'private') : null),
              m.description ? h('p', { class: 'row-body' }, m.description) : null,
              versions.length
                ? h('ul', { class: 'versions', 'aria-label': `Versions of ${m.name}` }, versions.map((v) => h('li', { 'data-version': v.version },
                  external(v.url, v.version), ` · ${plural(v.files, 'file', 'files')} · ${bytes(v.bytes)} · ${when(v.created_at)}`)))
                : null,
              h('details', { class: 'publish' },
                h('summary', {}, 'Publish a version'),
                publishForm(t, m, again))),
            confirmButton('Delete', 'Really delete it and every version?', async () => {
              await api('DELETE', `${base(t)}/modules/${seg(m.name)}`);
              again();
            }, { 'aria-label': `Delete module ${m.name}` }));
        }));
      });
    });

    const f = form('module-form', [
      field({
        id: 'module-name', name: 'name', label: 'Name', required: true, minlength: 2, maxlength: 64, placeholder: 'star-button',
        autocapitalize: 'none', spellcheck: 'false', hint: 'Lowercase letters, digits and dashes.',
      }),
      field({ id: 'module-description', name: 'description', label: 'Description', optional: true, maxlength: 500 }),
    ], 'Create module', async (v, f) => {
      const t = await personalTenant();
      const body = { name: v.name.trim().toLowerCase() };
      if (v.description.trim()) body.description = v.description.trim();
      await api('POST', `${base(t)}/modules`, body);
      f.reset();
      await reload();
      const details = document.querySelector(`#modules li[data-name="${CSS.escape(body.name)}"] details`);
      if (details) { details.open = true; details.querySelector('input').focus(); }
    }, { map: { name: 'module-name', description: 'module-description' } });

    const help = h('div', { class: 'hint-block' },
      h('p', {}, 'A version is an archive with a ', h('code', {}, 'module.json'), ' at its top, for example:'),
      h('pre', {}, '{\n  "name": "star-button",\n  "version": "1.0.0",\n  "entry": "index.js",\n  "description": "A shiny button"\n}'),
      h('p', { class: 'muted' }, '“entry” is the file rooms load; name and version must match the module and the version you publish.'));

    return stack('Modules', lead,
      card('Your modules', 'modules-card', list),
      card('New module', 'new-module', f, help));
  }

  // ---------- wire up ----------
  R.route('/rooms', viewRooms);
  R.route(/^\/rooms\/([a-z0-9-]{1,64})$/, viewRoom);
  R.route('/media', viewMedia);
  R.route('/modules', viewModules);
  R.nav('/rooms', 'Rooms');
  R.nav('/media', 'Media');
  R.nav('/modules', 'Modules');
})();
