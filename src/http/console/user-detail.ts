/**
 * A user's detail page: state, role, groups, owned resources, token activity, activity log and
 * processes, each section shown only to roles the matrix lets read it; an Administrator also gets
 * the role form. Reads go through the services the API uses; a user whose state the viewer may
 * not read is a 404, like an absent one. Whoever may act on the user's offboarding (the one
 * authority rule) gets Approve, Reject and Change owner while it waits for an approver; the
 * process's validators still decide. While a process moves, the page reloads itself.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Types } from 'mongoose';
import { z } from 'zod';
import { offboardingAuthority } from '../../domain/authority';
import { can, readableStatuses, roleLabel, SITE_ROLES, type SiteRole } from '../../domain/roles';
import { NotFoundError, UnprocessableError } from '../../errors';
import type { OffboardingAction } from '../../processes/offboarding';
import { userActivity } from '../../services/activity';
import { actOnOffboardingAs } from '../../services/offboarding-requests';
import { listResources } from '../../services/resources';
import { listTokens, tokenUsageLog } from '../../services/token-activity';
import { changeRoleChecked } from '../../services/user-admin';
import { getVisibleUser } from '../../services/user-queries';
import { displayName } from '../../services/user-view';
import { getUserByIdOrEmail, type StoredUser } from '../../services/users';
import { SETTLED_STATUSES, type OffboardingProgress } from '../../../workflows/offboarding-messages';
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
      { schema: { hide: true, security: [], params: idParams, querystring: z.strictObject({ done: z.enum(['role', 'invited', 'approve', 'reject', 'change-owner', 'retry-systems']).optional() }) } },
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
          mayFollow(viewer, user, 'processes:read') ? userProcesses(temporal, user) : undefined,
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
        const done = request.query.done;
        if (done === 'approve' || done === 'reject' || done === 'change-owner' || done === 'retry-systems') sections.unshift(html`<p class="notice" id="done">${OFFBOARDING_DONE[done]}</p>`);
        const actionable = processes?.offboarding?.status === 'awaiting_approval' || processes?.offboarding?.status === 'completed_with_access_left_behind';
        const acts = actionable && mayFollow(viewer, user, 'processes:act') ? html`${csrfField(request)}` : undefined;
        if (processes) sections.push(processSection(processes, at, acts && { csrf: acts, userId: String(user._id) }));
        // While a process moves, the page follows it (a reload every few seconds; no JavaScript).
        const moving = (processes?.offboarding && !SETTLED_STATUSES.includes(processes.offboarding.status)) || processes?.onboarding?.progress.state === 'creating-user';
        return sendConsolePage(request, reply, 200, displayName(user), html`<p><a href="/console/users">← Users</a></p><h1>${displayName(user)}</h1>${sections}`, { refreshSeconds: moving ? 5 : undefined });
      },
    );

    app.post(
      '/users/:id/offboarding/:action',
      {
        schema: {
          hide: true,
          security: [],
          params: z.strictObject({ id: idParams.shape.id, action: z.enum(['approve', 'reject', 'change-owner', 'retry-systems']) }),
          body: z.strictObject({ [CSRF_FIELD]: z.string().max(128), planVersion: z.string().max(200).optional(), reason: z.string().max(500).optional(), newOwner: z.string().max(320).optional() }),
        },
      },
      async (request, reply) => {
        const viewer = request.consoleSession!.user;
        const leaver = await models.User.findById(request.params.id, { email: 1 }).lean();
        if (!leaver) throw new NotFoundError(`No user with id ${request.params.id}.`, 'user_not_found');
        const body = request.body;
        const by = { user: viewer, actor: { type: 'user' as const, id: viewer._id, email: viewer.email, ip: request.ip }, source: 'api' as const, context: { via: 'console' } };
        const command = await offboardingCommand(models, request.params.action, body);
        // The process's validators decide who may act and when; a refusal comes back as its page.
        await actOnOffboardingAs({ models, temporal }, leaver, by, command);
        return reply.redirect(`/console/users/${request.params.id}?done=${request.params.action}`, 303);
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

const OFFBOARDING_DONE = {
  approve: 'The plan is approved; the offboarding carries on.',
  reject: 'The offboarding is rejected.',
  'change-owner': 'The new owner is set; approve the new plan version.',
  'retry-systems': 'The connected systems were tried again; their results are below.',
} as const;

/**
 * Whether the viewer may read (or act on) this user's processes: the one authority rule, so the
 * user's manager may as well as those the role matrix lets; the process's validators still decide.
 */
function mayFollow(viewer: { _id: Types.ObjectId; siteRole: SiteRole }, user: StoredUser, permission: 'processes:read' | 'processes:act'): boolean {
  const authority = offboardingAuthority({ actor: { id: String(viewer._id), siteRole: viewer.siteRole }, leaver: { id: String(user._id), managerId: user.managerId ? String(user.managerId) : null }, permission });
  return authority === 'admin' || authority === 'manager';
}

/** The command a console form asks for; a new owner is named by email or id. */
async function offboardingCommand(models: AppDeps['models'], action: 'approve' | 'reject' | 'change-owner' | 'retry-systems', body: { planVersion?: string; reason?: string; newOwner?: string }): Promise<OffboardingAction> {
  switch (action) {
    case 'approve':
      return { action, planVersion: body.planVersion ?? '' };
    case 'reject':
      return { action, reason: body.reason?.trim() || undefined };
    case 'retry-systems':
      return { action };
    case 'change-owner': {
      const owner = body.newOwner?.trim() ? await getUserByIdOrEmail(models, body.newOwner.trim()).catch(() => null) : null;
      if (!owner) throw new UnprocessableError('Name the new owner by their email address or id.', 'new_owner_unknown');
      return { action, newOwnerId: String(owner._id) };
    }
  }
}

function offboardingActions(off: OffboardingProgress, form: { csrf: Html; userId: string }): Html {
  const base = `/console/users/${form.userId}/offboarding`;
  const version = off.plan?.version ?? '';
  if (off.status === 'completed_with_access_left_behind') {
    const leftBehind = (off.systems ?? []).some((x) => x.verification && !x.verification.clean);
    return leftBehind ? html`<div class="actions" id="offboarding-actions"><form class="inline" method="post" action="${base}/retry-systems">${form.csrf}<button type="submit">Retry connected systems</button></form></div>` : html``;
  }
  return html`<div class="actions" id="offboarding-actions">
<form class="inline" method="post" action="${base}/approve">${form.csrf}<input type="hidden" name="planVersion" value="${version}"><button type="submit">Approve plan ${version}</button></form>
<form class="inline" method="post" action="${base}/reject">${form.csrf}<label for="reason">Reason</label><input type="text" id="reason" name="reason" maxlength="500"><button type="submit">Reject</button></form>
<form class="inline" method="post" action="${base}/change-owner">${form.csrf}<label for="newOwner">New owner (email)</label><input type="text" id="newOwner" name="newOwner" maxlength="320"><button type="submit">Change owner</button></form>
</div>`;
}

function processSection(processes: UserProcesses, at: (iso: string | undefined) => string, actions?: { csrf: Html; userId: string }): Html {
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
${actions ? offboardingActions(off, actions) : ''}
${systemsTable(off)}
<table><thead><tr><th>Step</th><th>State</th><th>Started</th><th>Finished</th><th>Detail</th></tr></thead><tbody>${steps}</tbody></table>`);
  }
  return html`<section id="processes"><h2>Processes</h2>${parts.length ? parts : html`<p class="muted">No onboarding or offboarding on record.</p>`}</section>`;
}

/** Each connected system: what the plan says will be done there, what was done, what verification found. */
function systemsTable(off: OffboardingProgress): Html {
  const planned = off.plan?.systems ?? [];
  if (!planned.length) return html``;
  const rows = planned.map((p) => {
    const sys = off.systems?.find((x) => x.system === p.system);
    const outcomes = sys?.outcomes.length ? html`<ul>${sys.outcomes.map((o) => html`<li>${o.summary}: ${o.state.replace('_', ' ')}${o.detail ? html` (${o.detail})` : ''}</li>`)}</ul>` : undefined;
    const plannedText = html`<span class="muted">${p.actions.length ? p.actions.map((a) => a.summary).join('; ') : p.error ?? 'no account there: nothing to do'}</span>`;
    // Before the plan is carried out, outcomes are an immediate lockout's: the plan still shows, and a lockout not done says so.
    const did = sys?.state === 'pending' ? html`${outcomes ?? ''}${plannedText}${sys.error && sys.error !== p.error ? html`<br><span class="problem">${sys.error}</span>` : ''}` : (outcomes ?? plannedText);
    const check = sys?.verification;
    const verdict = !check ? html`<span class="muted">not verified yet</span>` : check.clean ? html`<span class="badge">clean</span>` : html`<span class="problem">access left behind: ${check.error ?? check.remaining.join(', ')}</span>`;
    return html`<tr><td>${p.label}</td><td>${p.account ?? '—'}</td><td>${sys?.state ?? 'pending'}</td><td>${did}</td><td>${verdict}</td></tr>`;
  });
  return html`<table id="connected-systems"><thead><tr><th>System</th><th>Account</th><th>State</th><th>Actions</th><th>Verification</th></tr></thead><tbody>${rows}</tbody></table>`;
}
