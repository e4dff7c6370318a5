/**
 * The organization's settings in the console: everyone who may read them sees them with the
 * plan's use; Administrators change them with a form checked by the API's own schema and applied
 * by the same service (changeSettings: audited, a plan below the seats in use refused unless
 * confirmed, and then said plainly). Durations are shown and entered in days.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { can } from '../../domain/roles';
import { PLANS } from '../../domain/plans';
import { AppError } from '../../errors';
import { changeSettings, readSettings } from '../../services/org-settings';
import type { AppDeps } from '../deps';
import { html, type Html } from '../pages/html';
import { settingsChangeBody } from '../schemas/settings';
import { csrfField, CSRF_FIELD, sendConsolePage } from './session';

const DAY = 86_400_000;

const settingsForm = z.strictObject({
  [CSRF_FIELD]: z.string().max(128),
  name: z.string().max(1000),
  plan: z.string().max(40),
  domain: z.string().max(1000),
  invitationLifetimeDays: z.string().max(20),
  invitationResends: z.string().max(20),
  approvalRequired: z.literal('yes').optional(),
  retentionDays: z.string().max(20),
  immediateLockoutOnHrTermination: z.literal('yes').optional(),
  confirmOverLimit: z.literal('yes').optional(),
});
type SettingsForm = z.infer<typeof settingsForm>;

type Answer = Awaited<ReturnType<typeof readSettings>>;

const days = (text: string) => (text.trim() === '' ? Number.NaN : Math.round(Number(text) * DAY));

export function settingsPageRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { models } = deps;
  return async (app) => {
    app.get('/settings', { config: { consolePermission: 'settings:read' }, schema: { hide: true, security: [] } }, async (request, reply) => {
      const answer = await readSettings(models);
      const editable = can(request.consoleSession!.user.siteRole, 'settings:manage');
      return sendConsolePage(request, reply, 200, 'Settings', settingsPage(answer, editable ? csrfField(request) : undefined));
    });

    app.post('/settings', { config: { consolePermission: 'settings:manage' }, schema: { hide: true, security: [], body: settingsForm } }, async (request, reply) => {
      const form = request.body;
      const retention = form.retentionDays.trim() === '' ? null : days(form.retentionDays);
      const change = settingsChangeBody.safeParse({
        name: form.name,
        plan: form.plan,
        domain: form.domain,
        invitationLifetimeMs: days(form.invitationLifetimeDays),
        invitationResends: Number(form.invitationResends),
        offboarding: { approvalRequired: form.approvalRequired === 'yes', retentionMs: retention, immediateLockoutOnHrTermination: form.immediateLockoutOnHrTermination === 'yes' },
        confirmOverLimit: form.confirmOverLimit === 'yes',
      });
      const current = await readSettings(models);
      if (!change.success) {
        const issue = change.error.issues[0];
        const problem = html`<p class="problem" data-code="invalid_request">${issue?.path.join('.') || 'input'} ${issue?.message ?? 'is not valid'}.</p>`;
        return sendConsolePage(request, reply, 400, 'Settings', settingsPage(current, csrfField(request), { problem, form }));
      }
      const { confirmOverLimit, ...wanted } = change.data;
      try {
        const session = request.consoleSession!;
        const answer = await changeSettings(models, wanted, { type: 'user', id: session.user._id, email: session.user.email, ip: request.ip }, { confirmOverLimit });
        const notices = [html`<p class="notice" id="saved">Settings saved.</p>`, ...answer.notices.map((n) => html`<p class="notice">${n}</p>`)];
        return sendConsolePage(request, reply, 200, 'Settings', settingsPage(answer, csrfField(request), { notices }));
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        const problem = html`<p class="problem" data-code="${err.code}">${err.message}</p>`;
        return sendConsolePage(request, reply, err.status, 'Settings', settingsPage(current, csrfField(request), { problem, form, askConfirm: err.code === 'plan_below_usage' }));
      }
    });
  };
}

interface PageState {
  problem?: Html;
  notices?: Html[];
  /** What was sent, shown again after a refusal so nothing typed is lost. */
  form?: SettingsForm;
  askConfirm?: boolean;
}

function settingsPage(answer: Answer, csrf: Html | undefined, state: PageState = {}): Html {
  const { settings, usage } = answer;
  const sent = state.form;
  const value = {
    name: sent?.name ?? settings.name,
    plan: sent?.plan ?? settings.plan,
    domain: sent?.domain ?? settings.domain,
    lifetime: sent?.invitationLifetimeDays ?? String(settings.invitationLifetimeMs / DAY),
    resends: sent?.invitationResends ?? String(settings.invitationResends),
    approval: sent ? sent.approvalRequired === 'yes' : settings.offboarding.approvalRequired,
    retention: sent?.retentionDays ?? (settings.offboarding.retentionMs === null ? '' : String(settings.offboarding.retentionMs / DAY)),
    lockout: sent ? sent.immediateLockoutOnHrTermination === 'yes' : settings.offboarding.immediateLockoutOnHrTermination,
  };
  const use = html`<p class="muted" id="usage">${usage.plan} plan: ${usage.seatsInUse} seats in use (active and pending)${usage.limit === null ? ', no limit' : ` of ${usage.limit}`}.</p>`;
  if (!csrf) {
    return html`<h1>Settings</h1>${use}
<table><tbody>
<tr><th>Organization</th><td>${settings.name}</td></tr>
<tr><th>Plan</th><td>${settings.plan}</td></tr>
<tr><th>Email domain</th><td>${settings.domain || '(none)'}</td></tr>
<tr><th>Invitation lifetime</th><td>${value.lifetime} days, ${settings.invitationResends} automatic resends</td></tr>
<tr><th>Offboarding approval</th><td>${settings.offboarding.approvalRequired ? 'required' : 'not required'}</td></tr>
<tr><th>Deactivated accounts kept</th><td>${value.retention ? `${value.retention} days` : 'forever'}</td></tr>
<tr><th>HR termination locks out at once</th><td>${settings.offboarding.immediateLockoutOnHrTermination ? 'yes' : 'no'}</td></tr>
</tbody></table>`;
  }
  const checked = (on: boolean) => (on ? html` checked` : html``);
  return html`<h1>Settings</h1>${use}${state.notices ?? []}${state.problem ?? ''}
<form method="post" action="/console/settings">
${csrf}
<label for="name">Organization name</label><input type="text" id="name" name="name" maxlength="200" value="${value.name}">
<label for="plan">Plan</label><select id="plan" name="plan">${PLANS.map((p) => html`<option value="${p}"${p === value.plan ? html` selected` : ''}>${p}</option>`)}</select>
<label for="domain">Email domain (invitees outside it need a confirmation; empty for none)</label><input type="text" id="domain" name="domain" maxlength="253" value="${value.domain}">
<label for="invitationLifetimeDays">Invitation lifetime (days)</label><input type="text" inputmode="decimal" id="invitationLifetimeDays" name="invitationLifetimeDays" value="${value.lifetime}">
<label for="invitationResends">Automatic resends after expiry</label><input type="text" inputmode="numeric" id="invitationResends" name="invitationResends" value="${value.resends}">
<label><input type="checkbox" name="approvalRequired" value="yes"${checked(value.approval)}> Offboarding needs an approval</label>
<label for="retentionDays">Keep deactivated accounts (days; empty keeps them)</label><input type="text" inputmode="numeric" id="retentionDays" name="retentionDays" value="${value.retention}">
<label><input type="checkbox" name="immediateLockoutOnHrTermination" value="yes"${checked(value.lockout)}> An HR termination locks the leaver out at once</label>
${state.askConfirm ? html`<label><input type="checkbox" name="confirmOverLimit" value="yes"> Change the plan anyway</label>` : ''}
<button type="submit">Save settings</button>
</form>`;
}
