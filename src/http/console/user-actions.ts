/**
 * What an Administrator does from the console, each through the service the API uses: invite
 * (inviteUser: plan limit, domain check with its confirmation, the onboarding process), bulk role
 * change (bulkChangeRole, each user reported on its own) and the CSV export (exportUsersCsv, audited).
 * Each route names its permission, checked by the console guard before the body is read.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Types } from 'mongoose';
import { z } from 'zod';
import { emailAddress } from '../../domain/email';
import { readableStatuses, roleLabel, SITE_ROLES, type SiteRole } from '../../domain/roles';
import { freeText } from '../../domain/text';
import { USER_STATUSES } from '../../domain/user-state';
import { AppError } from '../../errors';
import type { Logger } from '../../logger';
import { recordAudit, type Actor } from '../../services/audit';
import { inviteUser } from '../../services/invite-user';
import { bulkChangeRole } from '../../services/user-admin';
import { exportUsersCsv } from '../../services/user-export';
import type { AppDeps } from '../deps';
import { html, type Html } from '../pages/html';
import { statusesFor } from '../routes/guards';
import { csrfField, CSRF_FIELD, sendConsolePage } from './session';

const csrf = z.string().max(128);
const inviteForm = z.strictObject({
  [CSRF_FIELD]: csrf,
  email: z.string().max(400),
  firstName: z.string().max(400).optional(),
  lastName: z.string().max(400).optional(),
  siteRole: z.enum(SITE_ROLES),
  confirmDomainMismatch: z.literal('yes').optional(),
});
const inviteFields = z.object({ email: emailAddress, firstName: freeText(100).optional(), lastName: freeText(100).optional() });
type InviteValues = { email: string; firstName: string; lastName: string; siteRole: SiteRole };

const bulkForm = z.strictObject({
  [CSRF_FIELD]: csrf,
  siteRole: z.enum(SITE_ROLES),
  ids: z.union([z.string(), z.array(z.string()).max(500)]).optional(),
});

const exportQuery = z.strictObject({
  status: z.enum([...USER_STATUSES, 'all']).optional(),
  role: z.union([z.enum(SITE_ROLES), z.literal('')]).optional(),
  q: z.string().max(200).optional(),
});

export function userActionRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { models, temporal } = deps;
  const actorOf = (request: { consoleSession?: { user: { _id: Types.ObjectId; email: string } }; ip: string }): Actor => ({
    type: 'user',
    id: request.consoleSession!.user._id,
    email: request.consoleSession!.user.email,
    ip: request.ip,
  });

  return async (app) => {
    app.get('/invite', { config: { consolePermission: 'users:create' }, schema: { hide: true, security: [] } }, async (request, reply) =>
      sendConsolePage(request, reply, 200, 'Invite a user', invitePage(csrfField(request), { email: '', firstName: '', lastName: '', siteRole: 'Users' })),
    );

    app.post('/invite', { config: { consolePermission: 'users:create' }, schema: { hide: true, security: [], body: inviteForm } }, async (request, reply) => {
      const body = request.body;
      const values: InviteValues = { email: body.email.trim(), firstName: body.firstName?.trim() ?? '', lastName: body.lastName?.trim() ?? '', siteRole: body.siteRole };
      const checked = inviteFields.safeParse({ email: values.email, firstName: values.firstName || undefined, lastName: values.lastName || undefined });
      if (!checked.success) {
        const issue = checked.error.issues[0];
        const problem = html`<p class="problem" data-code="invalid_request">${String(issue?.path[0] ?? 'input')} ${issue?.message ?? 'is not valid'}.</p>`;
        return sendConsolePage(request, reply, 400, 'Invite a user', invitePage(csrfField(request), values, problem));
      }
      try {
        const viewer = request.consoleSession!.user;
        const { user } = await inviteUser(
          { models, temporal, taskQueue: deps.config.TEMPORAL_TASK_QUEUE, logger: request.log as unknown as Logger },
          { ...checked.data, siteRole: values.siteRole, confirmDomainMismatch: body.confirmDomainMismatch === 'yes' },
          actorOf(request),
          { requestedBy: { type: 'user', id: String(viewer._id), email: viewer.email }, source: 'api' },
        );
        return reply.redirect(`/console/users/${String(user._id)}?done=invited`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        if (err.code === 'domain_mismatch') {
          const { orgDomain } = (err.details ?? {}) as { orgDomain?: string };
          const confirm = html`<p class="problem" data-code="domain_mismatch">${values.email} is outside the organization's domain (${orgDomain ?? ''}). Invite them anyway?</p>
<input type="hidden" name="confirmDomainMismatch" value="yes">`;
          return sendConsolePage(request, reply, 422, 'Invite a user', invitePage(csrfField(request), values, confirm, 'Invite anyway'));
        }
        return sendConsolePage(request, reply, err.status, 'Invite a user', invitePage(csrfField(request), values, html`<p class="problem" data-code="${err.code}">${err.message}</p>`));
      }
    });

    app.post('/users/role', { config: { consolePermission: 'users:change-role' }, schema: { hide: true, security: [], body: bulkForm } }, async (request, reply) => {
      const raw = request.body.ids === undefined ? [] : Array.isArray(request.body.ids) ? request.body.ids : [request.body.ids];
      const ids = raw.filter((id) => Types.ObjectId.isValid(id) && /^[0-9a-f]{24}$/i.test(id)).map((id) => new Types.ObjectId(id));
      if (!ids.length || ids.length !== raw.length) {
        return sendConsolePage(request, reply, 400, 'Change roles', html`<h1>Change roles</h1><p class="problem" data-code="invalid_request">Tick at least one user (and only users from the table).</p><p><a href="/console/users">Back to users</a></p>`);
      }
      const results = await bulkChangeRole(models, ids, request.body.siteRole, actorOf(request));
      const emails = new Map((await models.User.find({ _id: { $in: ids } }, { email: 1 }).lean()).map((u) => [String(u._id), u.email]));
      const rows = results.map(
        (r) => html`<tr data-result="${r.result}"><td>${emails.get(r.id) ?? r.id}</td><td>${r.from ? roleLabel(r.from) : ''}</td><td>${r.result.replace('_', ' ')}</td><td>${r.error?.message ?? ''}</td></tr>`,
      );
      const changed = results.filter((r) => r.result === 'changed').length;
      return sendConsolePage(
        request,
        reply,
        200,
        'Change roles',
        html`<h1>Change roles</h1><p class="notice" id="done">${changed} of ${results.length} users are now ${roleLabel(request.body.siteRole)}.</p>
<table id="results"><thead><tr><th>User</th><th>Role before</th><th>Result</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table>
<p><a href="/console/users">Back to users</a></p>`,
      );
    });

    app.get('/users/export.csv', { config: { consolePermission: 'users:export' }, schema: { hide: true, security: [], querystring: exportQuery } }, async (request, reply) => {
      const role = request.consoleSession!.user.siteRole;
      const q = request.query;
      const statuses = !q.status || q.status === 'all' ? readableStatuses(role) : statusesFor(role, [q.status]);
      const filter = { statuses, siteRoles: q.role ? [q.role] : undefined, q: q.q?.trim() || undefined };
      await recordAudit(models, { action: 'users.exported', actor: actorOf(request), details: { statuses, siteRoles: filter.siteRoles, q: filter.q, via: 'console' } });
      const stamp = new Date().toISOString().slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="users-${stamp}.csv"`)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .send(exportUsersCsv(models, filter, request.log) as unknown as string);
    });
  };
}

function invitePage(csrf: Html, values: InviteValues, problem: Html | '' = '', submit = 'Send invitation'): Html {
  const options = SITE_ROLES.map((r) => html`<option value="${r}"${r === values.siteRole ? html` selected` : ''}>${roleLabel(r)}</option>`);
  return html`<p><a href="/console/users">← Users</a></p><h1>Invite a user</h1>
<form method="post" action="/console/invite" id="invite-form">
${csrf}
${problem}
<label for="email">Email</label>
<input type="email" id="email" name="email" required maxlength="254" value="${values.email}">
<label for="firstName">First name</label>
<input type="text" id="firstName" name="firstName" maxlength="100" value="${values.firstName}">
<label for="lastName">Last name</label>
<input type="text" id="lastName" name="lastName" maxlength="100" value="${values.lastName}">
<label for="siteRole">Role</label>
<select id="siteRole" name="siteRole">${options}</select>
<p class="muted">They get an email with a link to accept; until their first sign-in they are listed as "Invited User".</p>
<button type="submit">${submit}</button>
</form>`;
}
