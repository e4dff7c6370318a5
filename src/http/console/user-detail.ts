/**
 * A user's detail page: state, role, groups, owned resources, token activity, activity log and
 * processes, each section shown only to roles the matrix lets read it; an Administrator also gets
 * the role form. Reads go through the services the API uses; a user whose state the viewer may
 * not read is a 404, like an absent one.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Types } from 'mongoose';
import { z } from 'zod';
import { can, readableStatuses, roleLabel, SITE_ROLES } from '../../domain/roles';
import { NotFoundError } from '../../errors';
import { userActivity } from '../../services/activity';
import { listResources } from '../../services/resources';
import { listTokens, tokenUsageLog } from '../../services/token-activity';
import { changeRoleChecked } from '../../services/user-admin';
import { getVisibleUser } from '../../services/user-queries';
import { displayName } from '../../services/user-view';
import type { StoredUser } from '../../services/users';
import type { AppDeps } from '../deps';
import { html, type Html } from '../pages/html';
import { userProcesses, type UserProcesses } from './processes';
import { csrfField, CSRF_FIELD, sendConsolePage } from './session';
import { dateFormatter, statusLabel } from './view';

const idParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{24}$/, 'is not a user id') });
const RECENT = { limit: 20, offset: 0 };

export function userDetailRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { models, temporal } = deps;
  const when = dateFormatter(deps.config.ORGANIZATION_TIME_ZONE);
  const at = (iso: string | undefined) => (iso ? when.format(new Date(iso)) : '');

  return async (app) => {
    app.get(
      '/users/:id',
      { schema: { hide: true, security: [], params: idParams, querystring: z.strictObject({ done: z.enum(['role', 'invited']).optional() }) } },
      async (request, reply) => {
        const viewer = request.consoleSession!.user;
        const role = viewer.siteRole;
        const user = await getVisibleUser(models, request.params.id, readableStatuses(role));
        const id = new Types.ObjectId(request.params.id);
        const [groups, resources, tokens, usage, activity, processes] = await Promise.all([
          can(role, 'groups:read') ? models.Group.find({ _id: { $in: user.groups ?? [] } }, { name: 1 }).sort({ name: 1 }).lean() : undefined,
          can(role, 'resources:read') ? listResources(models, { ownerId: request.params.id }, { limit: 100, offset: 0 }) : undefined,
          can(role, 'tokens:read-activity') ? listTokens(models, id) : undefined,
          can(role, 'tokens:read-activity') ? tokenUsageLog(models, id, {}, RECENT) : undefined,
          can(role, 'users:read-activity') ? userActivity(models, id, {}, RECENT) : undefined,
          can(role, 'processes:read') ? userProcesses(temporal, user) : undefined,
        ]);

        const sections: Html[] = [facts(user, when)];
        if (request.query.done === 'role') sections.unshift(html`<p class="notice" id="done">The role is now ${roleLabel(user.siteRole)}.</p>`);
        if (request.query.done === 'invited') sections.unshift(html`<p class="notice" id="done">${user.email} is invited; the invitation email is on its way.</p>`);
        if (can(role, 'users:change-role')) sections.push(roleForm(user, html`${csrfField(request)}`));
        if (groups) sections.push(html`<section id="groups"><h2>Groups</h2>${groups.length ? html`<ul>${groups.map((g) => html`<li>${g.name}</li>`)}</ul>` : html`<p class="muted">In no group.</p>`}</section>`);
        if (resources) {
          const rows = resources.resources.map((r) => html`<tr><td>${r.kind}</td><td>${r.name}</td><td>${r.creatorName}</td><td>${at(r.createdAt)}</td></tr>`);
          sections.push(
            html`<section id="resources"><h2>Owned resources</h2>${
              rows.length ? html`<table><thead><tr><th>Kind</th><th>Name</th><th>Created by</th><th>Created</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p class="muted">Owns nothing.</p>`
            }</section>`,
          );
        }
        if (tokens && usage) {
          const tokenRows = tokens.map((t) => html`<tr><td>${t.tokenId}</td><td>${t.name}</td><td>${t.scope.join(', ')}</td><td>${at(t.createdAt)}</td><td>${at(t.lastUsedAt)}</td><td>${t.active ? 'Active' : t.revokedAt ? `Revoked ${at(t.revokedAt)}` : 'Expired'}</td></tr>`);
          const usageRows = usage.usage.map((u) => html`<tr><td>${at(u.at)}</td><td>${u.tokenId}</td><td>${u.method} ${u.path}</td><td>${u.status}</td><td>${u.ip}</td></tr>`);
          sections.push(html`<section id="tokens"><h2>Token activity</h2>
${tokenRows.length ? html`<table><thead><tr><th>Token ID</th><th>Name</th><th>Scope</th><th>Created</th><th>Last used</th><th>State</th></tr></thead><tbody>${tokenRows}</tbody></table>` : html`<p class="muted">No API tokens.</p>`}
${usageRows.length ? html`<h3>Recent use</h3><table><thead><tr><th>When</th><th>Token ID</th><th>Request</th><th>Status</th><th>From</th></tr></thead><tbody>${usageRows}</tbody></table>` : ''}
</section>`);
        }
        if (activity) {
          const rows = activity.events.map((e) => html`<tr><td>${at(e.at)}</td><td>${e.action}</td><td>${e.actorEmail ?? e.actorType}</td><td>${e.processId ?? ''}</td></tr>`);
          sections.push(
            html`<section id="activity"><h2>Activity log</h2>${
              rows.length ? html`<table><thead><tr><th>When</th><th>What</th><th>By</th><th>Process</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p class="muted">Nothing recorded.</p>`
            }</section>`,
          );
        }
        if (processes) sections.push(processSection(processes, at));
        return sendConsolePage(request, reply, 200, displayName(user), html`<p><a href="/console/users">← Users</a></p><h1>${displayName(user)}</h1>${sections}`);
      },
    );

    app.post(
      '/users/:id/role',
      {
        config: { consolePermission: 'users:change-role' },
        schema: { hide: true, security: [], params: idParams, body: z.strictObject({ [CSRF_FIELD]: z.string().max(128), siteRole: z.enum(SITE_ROLES) }) },
      },
      async (request, reply) => {
        const viewer = request.consoleSession!.user;
        const user = await models.User.findById(request.params.id, { _id: 1 }).lean();
        if (!user) throw new NotFoundError(`No user with id ${request.params.id}.`, 'user_not_found');
        await changeRoleChecked(models, user._id, request.body.siteRole, { type: 'user', id: viewer._id, email: viewer.email, ip: request.ip });
        return reply.redirect(`/console/users/${request.params.id}?done=role`, 303);
      },
    );
  };
}

function facts(user: StoredUser, when: Intl.DateTimeFormat): Html {
  const inv = user.invitation;
  return html`<dl class="facts" id="state">
<dt>Email</dt><dd>${user.email}</dd>
<dt>State</dt><dd><span class="badge">${statusLabel(user)}</span>${user.lockout ? html` since ${when.format(user.lockout.at)} (${user.lockout.processId})` : ''}</dd>
<dt>Role</dt><dd id="role">${roleLabel(user.siteRole)}</dd>
<dt>Last login</dt><dd>${user.lastLoginAt ? when.format(user.lastLoginAt) : 'Never'}</dd>
<dt>Created</dt><dd>${user.createdAt ? when.format(user.createdAt) : ''}</dd>
${user.deactivatedAt ? html`<dt>Deactivated</dt><dd>${when.format(user.deactivatedAt)}</dd>` : ''}
${inv?.sentAt && !inv.acceptedAt ? html`<dt>Invitation</dt><dd>sent ${when.format(inv.sentAt)}${inv.expiresAt ? html`, works until ${when.format(inv.expiresAt)}` : ''} (${inv.sendCount ?? 0} sent)</dd>` : ''}
${user.title ? html`<dt>Title</dt><dd>${user.title}</dd>` : ''}
</dl>`;
}

function roleForm(user: StoredUser, csrf: Html): Html {
  const options = SITE_ROLES.map((r) => html`<option value="${r}"${r === user.siteRole ? html` selected` : ''}>${roleLabel(r)}</option>`);
  return html`<form class="inline" method="post" action="/console/users/${String(user._id)}/role" id="role-form">
${csrf}
<label for="siteRole">Change role</label>
<select id="siteRole" name="siteRole">${options}</select>
<button type="submit">Save role</button>
</form>`;
}

function processSection(processes: UserProcesses, at: (iso: string | undefined) => string): Html {
  if (processes.unavailable) return html`<section id="processes"><h2>Processes</h2><p class="problem">The processes could not be read just now (${processes.unavailable}). Reload to try again.</p></section>`;
  const parts: Html[] = [];
  const on = processes.onboarding;
  if (on) {
    const steps = on.progress.history.map((s) => html`<li>${at(s.at)}: ${s.step}${s.detail ? html` (${s.detail})` : ''}</li>`);
    parts.push(html`<h3>Onboarding · ${on.progress.state} (${on.status.toLowerCase()})</h3><p class="muted">${on.progress.sends} of ${on.progress.maxSends} invitations sent.</p><ol>${steps}</ol>`);
  }
  const off = processes.offboarding;
  if (off) {
    const steps = off.steps.map((s) => html`<tr><td>${s.name}</td><td>${s.state}</td><td>${at(s.startedAt)}</td><td>${at(s.finishedAt)}</td><td>${s.detail ?? ''}</td></tr>`);
    parts.push(html`<h3>Offboarding · ${off.status}</h3>${off.awaiting ? html`<p class="notice">Waiting: ${off.awaiting}</p>` : ''}
<p class="muted">Resources transferred: ${off.resources.done} of ${off.resources.total}.</p>
<table><thead><tr><th>Step</th><th>State</th><th>Started</th><th>Finished</th><th>Detail</th></tr></thead><tbody>${steps}</tbody></table>`);
  }
  return html`<section id="processes"><h2>Processes</h2>${parts.length ? parts : html`<p class="muted">No onboarding or offboarding on record.</p>`}</section>`;
}
