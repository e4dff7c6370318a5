/**
 * The users table: name, email, role, status ("Invited User" until the first sign-in), last
 * login and created; a tab per account state the role may read; search and role and status
 * filters; paging. The rows come from listUsers, the same query as `GET /v1/users` (a page reads
 * limit + 1 rows and counts nothing, so a page costs the same over 100,000 users).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { can, readableStatuses, roleLabel, SITE_ROLES, type SiteRole } from '../../domain/roles';
import { USER_STATUSES, type UserStatus } from '../../domain/user-state';
import { listUsers } from '../../services/user-queries';
import { displayName } from '../../services/user-view';
import type { StoredUser } from '../../services/users';
import type { AppDeps } from '../deps';
import { html, type Html } from '../pages/html';
import { statusesFor } from '../routes/guards';
import { csrfField, sendConsolePage } from './session';
import { dateFormatter, statusLabel } from './view';

const PAGE_SIZE = 50;

const usersQuery = z.strictObject({
  status: z.enum([...USER_STATUSES, 'all']).optional(),
  role: z.union([z.enum(SITE_ROLES), z.literal('')]).optional(),
  q: z.string().max(200).optional(),
  offset: z.coerce.number().int().min(0).max(10_000_000).optional(),
});
type UsersQuery = z.infer<typeof usersQuery>;

const TAB_LABELS: Record<UserStatus | 'all', string> = { active: 'Active', pending: 'Pending', deactivated: 'Deactivated', all: 'All' };

export function usersTableRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const when = dateFormatter(deps.config.ORGANIZATION_TIME_ZONE);
  return async (app) => {
    // The console's front door is the users table.
    app.get('/', { schema: { hide: true, security: [] } }, async (_request, reply) => reply.redirect('/console/users', 303));

    app.get('/users', { schema: { hide: true, security: [], querystring: usersQuery } }, async (request, reply) => {
      const viewer = request.consoleSession!.user;
      const query = request.query;
      const tab = query.status ?? 'active';
      const statuses = tab === 'all' ? readableStatuses(viewer.siteRole) : statusesFor(viewer.siteRole, [tab]);
      const offset = query.offset ?? 0;
      const q = query.q?.trim() || undefined;
      const siteRoles = query.role ? [query.role] : undefined;
      const { page, users } = await listUsers(deps.models, { statuses, siteRoles, q }, { limit: PAGE_SIZE, offset });

      const link = (change: Partial<UsersQuery>) => `/console/users?${toSearch({ status: tab, role: query.role, q, offset: undefined, ...change })}`;
      const tabs = [...readableStatuses(viewer.siteRole), 'all' as const].map(
        (s) => html`<li><a href="${link({ status: s, offset: undefined })}"${s === tab ? html` aria-current="page"` : ''}>${TAB_LABELS[s]}</a></li>`,
      );
      const actions = [
        can(viewer.siteRole, 'users:create') ? html`<a href="/console/invite" id="invite-link">Invite a user</a>` : '',
        can(viewer.siteRole, 'users:export') ? html`<a href="/console/users/export.csv?${toSearch({ status: tab, role: query.role, q })}" id="export-link">Export CSV</a>` : '',
      ];
      const bulk = can(viewer.siteRole, 'users:change-role');
      const rows = users.length ? table(users, when, bulk) : html`<p class="muted" id="no-users">No users match.</p>`;
      const body = html`<h1>Users</h1>
<p class="pager">${actions}</p>
<ul class="tabs">${tabs}</ul>
${filters(readableStatuses(viewer.siteRole), tab, query.role, q)}
${bulk && users.length ? bulkForm(csrfField(request), rows) : rows}
<div class="pager">
${offset > 0 ? html`<a rel="prev" href="${link({ offset: Math.max(0, offset - PAGE_SIZE) || undefined })}">Previous page</a>` : ''}
<span class="muted">Users ${users.length ? offset + 1 : 0}–${offset + users.length}</span>
${page.hasMore ? html`<a rel="next" href="${link({ offset: offset + PAGE_SIZE })}">Next page</a>` : ''}
</div>`;
      return sendConsolePage(request, reply, 200, 'Users', body);
    });
  };
}

function toSearch(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') params.set(key, String(value));
  return params.toString();
}

function filters(readable: UserStatus[], tab: string, role: SiteRole | '' | undefined, q: string | undefined): Html {
  const roleOptions = SITE_ROLES.map((r) => html`<option value="${r}"${r === role ? html` selected` : ''}>${roleLabel(r)}</option>`);
  const statusOptions = [...readable, 'all' as const].map((s) => html`<option value="${s}"${s === tab ? html` selected` : ''}>${TAB_LABELS[s]}</option>`);
  return html`<form class="filters" method="get" action="/console/users" role="search">
<div><label for="q">Search</label><input type="search" id="q" name="q" value="${q ?? ''}" maxlength="200" placeholder="Name or email"></div>
<div><label for="role">Role</label><select id="role" name="role"><option value="">All roles</option>${roleOptions}</select></div>
<div><label for="status">Status</label><select id="status" name="status">${statusOptions}</select></div>
<button type="submit">Filter</button>
</form>`;
}

/** The table inside the bulk role form: tick rows, pick a role, save. */
function bulkForm(csrf: Html, table: Html): Html {
  const options = SITE_ROLES.map((r) => html`<option value="${r}">${roleLabel(r)}</option>`);
  return html`<form method="post" action="/console/users/role" id="bulk-form">
${csrf}
<div class="inline"><label for="bulk-role">Change the role of the ticked users to</label>
<select id="bulk-role" name="siteRole" required><option value="" disabled selected>Choose a role</option>${options}</select>
<button type="submit">Change role</button></div>
${table}
</form>`;
}

function table(users: StoredUser[], when: Intl.DateTimeFormat, selectable: boolean): Html {
  const rows = users.map(
    (u) => html`<tr data-user-id="${String(u._id)}">
${selectable ? html`<td><input type="checkbox" name="ids" value="${String(u._id)}" aria-label="Select ${u.email}"></td>` : ''}<td><a href="/console/users/${String(u._id)}">${displayName(u)}</a></td>
<td class="email">${u.email}</td>
<td>${roleLabel(u.siteRole)}</td>
<td class="status"><span class="badge">${statusLabel(u)}</span></td>
<td>${u.lastLoginAt ? when.format(u.lastLoginAt) : html`<span class="muted">Never</span>`}</td>
<td>${u.createdAt ? when.format(u.createdAt) : ''}</td>
</tr>`,
  );
  return html`<table id="users">
<thead><tr>${selectable ? html`<th scope="col"><span class="muted">Select</span></th>` : ''}<th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Last login</th><th scope="col">Created</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}
