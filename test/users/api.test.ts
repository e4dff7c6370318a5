/** Every user endpoint against the real MongoDB-wire server: answers, field names, status codes, effects. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorker } from '../helpers/temporal';
import { seedResource, seedUser, type SeededUser } from '../helpers/users';
import { json, openHarness, type Harness } from './harness';

let h: Harness;
let admin: SeededUser;
let auditor: SeededUser;

beforeAll(async () => {
  h = await openHarness('usersapi');
  admin = await seedUser(h.ctx.models, { email: 'root@acme.test', siteRole: 'Administrators', firstName: 'Ada', lastName: 'Root' });
  auditor = await seedUser(h.ctx.models, { email: 'audit@acme.test', siteRole: 'Auditors' });
});

afterAll(async () => {
  await h?.close();
});

const get = (url: string, who: SeededUser = admin) => h.app.inject({ method: 'GET', url, headers: who.auth });
const post = (url: string, payload?: unknown, who: SeededUser = admin) => h.app.inject({ method: 'POST', url, headers: who.auth, payload: payload as object });

describe('GET /v1/users/search', () => {
  beforeAll(async () => {
    await seedUser(h.ctx.models, { email: 'john.smith@search.test', firstName: 'John', lastName: 'Smith' });
    await seedUser(h.ctx.models, { email: 'johanna@search.test' });
    await seedUser(h.ctx.models, { email: 'senior-engineer@search.test' });
    await seedUser(h.ctx.models, { email: 'gone@search.test', status: 'deactivated' });
  });

  it('finds one user by exact email, case-insensitively, with the full user object', async () => {
    const res = await get('/v1/users/search?email=John.Smith@SEARCH.test');
    expect(res.statusCode).toBe(200);
    const user = json(res);
    expect(user).toMatchObject({ email: 'john.smith@search.test', firstName: 'John', lastName: 'Smith', active: true, status: 'active', siteRole: 'Users', groups: [], applications: [], tools: [] });
    expect(user._id).toMatch(/^[0-9a-f]{24}$/);
    expect(typeof user.createdAt).toBe('string');
  });

  it('finds one user by a wildcard pattern', async () => {
    expect(json(await get('/v1/users/search?email=*engineer*@search.test')).email).toBe('senior-engineer@search.test');
    expect(json(await get('/v1/users/search?email=john*')).email).toBe('john.smith@search.test');
  });

  it('answers 400 multiple_matches when several users match', async () => {
    const res = await get('/v1/users/search?email=*@search.test');
    expect(res.statusCode).toBe(400);
    expect(json(res).error.code).toBe('multiple_matches');
    expect(json(res).error.message).toMatch(/More than one user/);
  });

  it('answers 404 when nobody matches', async () => {
    const res = await get('/v1/users/search?email=nobody*@search.test');
    expect(res.statusCode).toBe(404);
    expect(json(res).error.code).toBe('user_not_found');
  });

  it('hides deactivated users from readers but not from Administrators', async () => {
    expect((await get('/v1/users/search?email=gone@search.test')).statusCode).toBe(200);
    expect((await get('/v1/users/search?email=gone@search.test', auditor)).statusCode).toBe(404);
  });
});

describe('GET /v1/users/{idOrEmail}', () => {
  it('finds a user by id and by email', async () => {
    const u = await seedUser(h.ctx.models, { email: 'byid@acme.test' });
    const byId = await get(`/v1/users/${u.user._id}`);
    expect(byId.statusCode).toBe(200);
    expect(json(byId).email).toBe('byid@acme.test');
    const byEmail = await get(`/v1/users/${encodeURIComponent('ByID@acme.test')}`);
    expect(json(byEmail)._id).toBe(String(u.user._id));
  });

  it('answers 400 invalid_id for a malformed id and 404 for an unknown one', async () => {
    const bad = await get('/v1/users/not-an-id');
    expect(bad.statusCode).toBe(400);
    expect(json(bad).error.code).toBe('invalid_id');
    const missing = await get('/v1/users/0123456789abcdef01234567');
    expect(missing.statusCode).toBe(404);
  });

  it('lets readers see active and pending users but answers 404 for a deactivated one', async () => {
    const pending = await seedUser(h.ctx.models, { status: 'pending' });
    const gone = await seedUser(h.ctx.models, { status: 'deactivated' });
    expect((await get(`/v1/users/${pending.user._id}`, auditor)).statusCode).toBe(200);
    expect((await get(`/v1/users/${gone.user._id}`, auditor)).statusCode).toBe(404);
    expect(json(await get(`/v1/users/${gone.user._id}`)).status).toBe('deactivated');
  });
});

describe('GET /v1/users/active', () => {
  it('lists active users only, by pattern and by id list', async () => {
    const a = await seedUser(h.ctx.models, { email: 'a1@active.test' });
    const b = await seedUser(h.ctx.models, { email: 'a2@active.test' });
    await seedUser(h.ctx.models, { email: 'a3@active.test', status: 'pending' });
    await seedUser(h.ctx.models, { email: 'a4@active.test', status: 'deactivated' });
    const byPattern = await get('/v1/users/active?email=*@active.test');
    expect(byPattern.statusCode).toBe(200);
    expect(json<any[]>(byPattern).map((u) => u.email)).toEqual(['a1@active.test', 'a2@active.test']);
    // Matches are counted only on request; a page says whether another follows.
    expect(byPattern.headers['x-total-count']).toBeUndefined();
    expect(byPattern.headers['x-has-more']).toBe('false');
    const firstOfTwo = await get('/v1/users/active?email=*@active.test&limit=1&count=true');
    expect(json<any[]>(firstOfTwo).map((u) => u.email)).toEqual(['a1@active.test']);
    expect(firstOfTwo.headers['x-has-more']).toBe('true');
    expect(firstOfTwo.headers['x-total-count']).toBe('2');
    const pendingId = (await h.ctx.models.User.findOne({ email: 'a3@active.test' }).lean())!._id;
    const byIds = await get(`/v1/users/active?id=${a.user._id},${b.user._id},${pendingId}`);
    expect(json<any[]>(byIds).map((u) => u.email).sort()).toEqual(['a1@active.test', 'a2@active.test']);
  });

  it('answers 400 without email or id, and for a malformed id in the list', async () => {
    expect((await get('/v1/users/active')).statusCode).toBe(400);
    const res = await get('/v1/users/active?id=0123456789abcdef01234567,nope');
    expect(res.statusCode).toBe(400);
    expect(json(res).error.code).toBe('invalid_request');
  });
});

describe('GET /v1/users (list)', () => {
  beforeAll(async () => {
    await seedUser(h.ctx.models, { email: 'maria.lopez@list.test', firstName: 'Maria', lastName: 'Lopez', siteRole: 'PowerUsers' });
    await seedUser(h.ctx.models, { email: 'mario.rossi@list.test', firstName: 'Mario', lastName: 'Rossi', status: 'pending' });
    await seedUser(h.ctx.models, { email: 'marek@list.test', firstName: 'Marek', lastName: 'Nowak', status: 'deactivated' });
  });

  it('filters by text (word prefixes of names and email), status and role, with a total on request', async () => {
    const res = await get('/v1/users?q=mar&email=*@list.test&count=true');
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body.total).toBe(3);
    expect(body.hasMore).toBe(false);
    expect(json(await get('/v1/users?q=mar&email=*@list.test')).total).toBeUndefined();
    expect(json(await get('/v1/users?count=yes')).error.code).toBe('invalid_request');
    expect(body.users.map((u: any) => u.email).sort()).toEqual(['marek@list.test', 'maria.lopez@list.test', 'mario.rossi@list.test']);
    expect(json(await get('/v1/users?q=MARIA%20lop')).users.map((u: any) => u.email)).toEqual(['maria.lopez@list.test']);
    expect(json(await get('/v1/users?q=rossi&status=pending')).users).toHaveLength(1);
    expect(json(await get('/v1/users?q=rossi&status=active')).users).toHaveLength(0);
    expect(json(await get('/v1/users?q=mar&siteRole=PowerUsers')).users.map((u: any) => u.email)).toEqual(['maria.lopez@list.test']);
  });

  it('treats regex characters in q literally', async () => {
    const res = await get(`/v1/users?q=${encodeURIComponent('.*')}&count=true`);
    expect(res.statusCode).toBe(200);
    expect(json(res).total).toBe(0);
    expect(json(res).users).toEqual([]);
  });

  it('pages with limit and offset in a stable order', async () => {
    const first = json(await get('/v1/users?email=*@list.test&limit=2&offset=0&sort=email&count=true'));
    const second = json(await get('/v1/users?email=*@list.test&limit=2&offset=2&sort=email'));
    expect(first.total).toBe(3);
    expect(first.hasMore).toBe(true);
    expect(second.hasMore).toBe(false);
    expect(first.users.map((u: any) => u.email)).toEqual(['marek@list.test', 'maria.lopez@list.test']);
    expect(second.users.map((u: any) => u.email)).toEqual(['mario.rossi@list.test']);
  });

  it('shows readers no deactivated users, and refuses them a deactivated filter with 403', async () => {
    const res = json(await get('/v1/users?email=*@list.test', auditor));
    expect(res.users.map((u: any) => u.status).sort()).toEqual(['active', 'pending']);
    expect((await get('/v1/users?status=deactivated', auditor)).statusCode).toBe(403);
  });
});

const put = (url: string, payload: unknown, who: SeededUser = admin) => h.app.inject({ method: 'PUT', url, headers: who.auth, payload: payload as object });
const del = (url: string, who: SeededUser = admin) => h.app.inject({ method: 'DELETE', url, headers: who.auth });
const auditOf = (action: string, targetUserId?: unknown) => h.ctx.models.AuditEvent.find({ action, ...(targetUserId ? { targetUserId } : {}) }).lean();

describe('POST /v1/users/{idOrEmail}/deactivate', () => {
  it('answers 409 owns_resources listing what the user still owns, and changes nothing', async () => {
    const owner = await seedUser(h.ctx.models, { email: 'owner@deact.test' });
    const r1 = await seedResource(h.ctx.models, owner.user._id, { kind: 'pipeline', name: 'deploy' });
    await seedResource(h.ctx.models, owner.user._id, { kind: 'tool', name: 'jira' });
    const res = await post(`/v1/users/${owner.user._id}/deactivate`);
    expect(res.statusCode).toBe(409);
    const err = json(res).error;
    expect(err.code).toBe('owns_resources');
    expect(err.message).toMatch(/owns 2 resources/);
    expect(err.details.total).toBe(2);
    expect(err.details.owned.map((r: any) => r.name).sort()).toEqual(['deploy', 'jira']);
    expect(err.details.owned.find((r: any) => r.name === 'deploy')._id).toBe(String(r1._id));
    expect((await h.ctx.models.User.findById(owner.user._id).lean())!.status).toBe('active');
  });

  it('deactivates by email with the message "User deactivation completed: true", ends sessions, revokes tokens and audits', async () => {
    const leaver = await seedUser(h.ctx.models, { email: 'leaver@deact.test' });
    const res = await post('/v1/users/LEAVER@deact.test/deactivate');
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body.message).toBe('User deactivation completed: true');
    expect(body.user).toMatchObject({ email: 'leaver@deact.test', active: false, status: 'deactivated' });
    expect(body.user.deactivatedAt).toBeTruthy();
    // Their token stops working at once.
    expect((await get('/v1/users/search?email=leaver@deact.test', leaver)).statusCode).toBe(401);
    const token = await h.ctx.models.AccessToken.findOne({ userId: leaver.user._id }).lean();
    expect(token!.revokedAt).toBeTruthy();
    const events = await auditOf('user.deactivated', leaver.user._id);
    expect(events).toHaveLength(1);
    expect(String(events[0]!.actorId)).toBe(String(admin.user._id));
    // A second deactivation is a conflict, not a silent success.
    const again = await post(`/v1/users/${leaver.user._id}/deactivate`);
    expect(again.statusCode).toBe(409);
    expect(json(again).error.code).toBe('invalid_state');
  });

  it('refuses an Administrator deactivating themselves', async () => {
    const res = await post(`/v1/users/${admin.user._id}/deactivate`);
    expect(res.statusCode).toBe(409);
    expect(json(res).error.code).toBe('self_action');
  });
});

describe('POST /v1/users/{idOrEmail}/reactivate', () => {
  it('makes a deactivated user active at once through the reactivation process and audits it', async () => {
    const u = await seedUser(h.ctx.models, { status: 'deactivated' });
    const res = await withWorker(h.ctx, () => post(`/v1/users/${u.user._id}/reactivate`));
    expect(res.statusCode).toBe(200);
    expect(json(res).message).toBe('User reactivation completed: true');
    expect(json(res).user).toMatchObject({ status: 'active', active: true });
    expect(json(res).user.deactivatedAt).toBeUndefined();
    const [event] = await auditOf('user.reactivated', u.user._id);
    expect(event!.processId).toBe(`reactivation:${u.user._id}`);
    expect(String(event!.actorId)).toBe(String(admin.user._id));
  });

  it('answers 409 for a user who is not deactivated', async () => {
    const u = await seedUser(h.ctx.models);
    const res = await post(`/v1/users/${u.user._id}/reactivate`);
    expect(res.statusCode).toBe(409);
    expect(json(res).error.code).toBe('invalid_state');
  });
});

describe('PUT /v1/users/{idOrEmail}/site-role', () => {
  it('changes the role, answers "Successfully updated site role for user." and audits from/to', async () => {
    const u = await seedUser(h.ctx.models, { email: 'role@acme.test' });
    const res = await put('/v1/users/role@acme.test/site-role', { siteRole: 'PowerUsers' });
    expect(res.statusCode).toBe(200);
    expect(json(res).message).toBe('Successfully updated site role for user.');
    expect(json(res).user.siteRole).toBe('PowerUsers');
    const [event] = await auditOf('user.role_changed', u.user._id);
    expect(event!.details).toEqual({ from: 'Users', to: 'PowerUsers' });
  });

  it('answers 404 for an unknown user and 400 for an unknown role', async () => {
    expect((await put('/v1/users/nobody@acme.test/site-role', { siteRole: 'Users' })).statusCode).toBe(404);
    const bad = await put(`/v1/users/${admin.user._id}/site-role`, { siteRole: 'Root' });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).error.code).toBe('invalid_request');
  });

  it('refuses to demote the last active Administrator', async () => {
    const res = await put(`/v1/users/${admin.user._id}/site-role`, { siteRole: 'Users' });
    expect(res.statusCode).toBe(409);
    expect(json(res).error.code).toBe('last_administrator');
    expect((await h.ctx.models.User.findById(admin.user._id).lean())!.siteRole).toBe('Administrators');
  });
});

describe('POST /v1/users/bulk/site-role', () => {
  it('reports a result per id and changes only those it can', async () => {
    const a = await seedUser(h.ctx.models);
    const b = await seedUser(h.ctx.models, { siteRole: 'Auditors' });
    const missing = '0123456789abcdef01234567';
    const res = await post('/v1/users/bulk/site-role', { ids: [String(a.user._id), String(b.user._id), missing, String(admin.user._id)], siteRole: 'Auditors' });
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body).toMatchObject({ siteRole: 'Auditors', changed: 1, unchanged: 1, failed: 2 });
    const byId = Object.fromEntries(body.results.map((r: any) => [r.id, r]));
    expect(byId[String(a.user._id)]).toMatchObject({ result: 'changed', from: 'Users' });
    expect(byId[String(b.user._id)]).toMatchObject({ result: 'unchanged' });
    expect(byId[missing]).toMatchObject({ result: 'not_found' });
    expect(byId[String(admin.user._id)]).toMatchObject({ result: 'refused', error: { code: 'self_action' } });
    expect((await h.ctx.models.User.findById(a.user._id).lean())!.siteRole).toBe('Auditors');
    expect((await h.ctx.models.User.findById(admin.user._id).lean())!.siteRole).toBe('Administrators');
    expect(await auditOf('users.bulk_role_change')).toHaveLength(1);
  });

  it('refuses more than 100 ids with 400 and changes nothing', async () => {
    const u = await seedUser(h.ctx.models);
    const ids = [String(u.user._id), ...Array.from({ length: 100 }, (_, i) => i.toString(16).padStart(24, '0'))];
    const res = await post('/v1/users/bulk/site-role', { ids, siteRole: 'PowerUsers' });
    expect(res.statusCode).toBe(400);
    expect((await h.ctx.models.User.findById(u.user._id).lean())!.siteRole).toBe('Users');
  });
});

describe('resources: list, one, transfer', () => {
  it('transfers one resource to an active user, records history and audit', async () => {
    const from = await seedUser(h.ctx.models, { firstName: 'Fran', lastName: 'From' });
    const to = await seedUser(h.ctx.models, { firstName: 'Tom', lastName: 'To' });
    const r = await seedResource(h.ctx.models, from.user._id, { name: 'nightly' });
    const res = await post(`/v1/resources/${r._id}/transfer`, { newOwnerId: String(to.user._id), reason: 'team change' });
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body.resource).toMatchObject({ ownerId: String(to.user._id), ownerName: 'Tom To', creatorName: 'Fran From' });
    expect(body.resource.transfers).toHaveLength(1);
    expect(body.resource.transfers[0]).toMatchObject({ fromUserId: String(from.user._id), toUserId: String(to.user._id), byUserId: String(admin.user._id), reason: 'team change' });
    const [event] = await h.ctx.models.AuditEvent.find({ action: 'resource.transferred', 'details.resourceId': String(r._id) }).lean();
    expect(event).toBeTruthy();
    const listed = json(await get(`/v1/resources?ownerId=${to.user._id}&count=true`));
    expect(listed.total).toBe(1);
    expect(listed.resources[0]._id).toBe(String(r._id));
  });

  it('refuses the same owner (422), an inactive new owner (422), an unknown resource (404)', async () => {
    const owner = await seedUser(h.ctx.models);
    const gone = await seedUser(h.ctx.models, { status: 'deactivated' });
    const pending = await seedUser(h.ctx.models, { status: 'pending' });
    const r = await seedResource(h.ctx.models, owner.user._id);
    const same = await post(`/v1/resources/${r._id}/transfer`, { newOwnerId: String(owner.user._id) });
    expect(same.statusCode).toBe(422);
    expect(json(same).error.code).toBe('same_owner');
    for (const target of [gone, pending]) {
      const res = await post(`/v1/resources/${r._id}/transfer`, { newOwnerId: String(target.user._id) });
      expect(res.statusCode).toBe(422);
      expect(json(res).error.code).toBe('new_owner_inactive');
    }
    expect((await post(`/v1/resources/0123456789abcdef01234567/transfer`, { newOwnerId: String(owner.user._id) })).statusCode).toBe(404);
    expect(String((await h.ctx.models.Resource.findById(r._id).lean())!.ownerId)).toBe(String(owner.user._id));
  });
});

describe('DELETE /v1/users/{idOrEmail}', () => {
  it('answers 409 while the user owns anything', async () => {
    const owner = await seedUser(h.ctx.models);
    await seedResource(h.ctx.models, owner.user._id);
    const res = await del(`/v1/users/${owner.user._id}`);
    expect(res.statusCode).toBe(409);
    expect(json(res).error.code).toBe('owns_resources');
    expect(await h.ctx.models.User.exists({ _id: owner.user._id })).toBeTruthy();
  });

  it('removes the user, leaves "Deleted User" as creator, empties their groups, revokes tokens, keeps the audit trail', async () => {
    const maker = await seedUser(h.ctx.models, { email: 'maker@delete.test', firstName: 'Mia', lastName: 'Maker' });
    const heir = await seedUser(h.ctx.models);
    const group = json(await post('/v1/groups', { name: 'delete-test-group' }));
    await h.ctx.models.User.updateOne({ _id: maker.user._id }, { $set: { groups: [group._id] } });
    expect(json(await get('/v1/groups')).groups.find((g: any) => g._id === group._id).memberCount).toBe(1);
    const r = await seedResource(h.ctx.models, maker.user._id, { name: 'made-by-mia' });
    expect(json(await get(`/v1/resources/${r._id}`)).creatorName).toBe('Mia Maker');
    expect((await post(`/v1/resources/${r._id}/transfer`, { newOwnerId: String(heir.user._id) })).statusCode).toBe(200);

    const res = await del('/v1/users/maker@delete.test');
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({ message: 'User deleted permanently.', deleted: { _id: String(maker.user._id), email: 'maker@delete.test' } });

    expect((await get(`/v1/users/${maker.user._id}`)).statusCode).toBe(404);
    const resource = json(await get(`/v1/resources/${r._id}`));
    expect(resource).toMatchObject({ createdBy: null, creatorName: 'Deleted User', ownerId: String(heir.user._id) });
    expect(json(await get(`/v1/resources?ownerId=${heir.user._id}`)).resources[0].creatorName).toBe('Deleted User');
    expect(json(await get('/v1/groups')).groups.find((g: any) => g._id === group._id).memberCount).toBe(0);
    expect((await get('/v1/groups', maker)).statusCode).toBe(401);
    expect(await h.ctx.models.AccessToken.countDocuments({ userId: maker.user._id, revokedAt: null })).toBe(0);
    const [event] = await auditOf('user.deleted', maker.user._id);
    expect(event!.details).toEqual({ groupsLeft: [group._id] });
    // The history about them survives the account.
    expect(await h.ctx.models.AuditEvent.countDocuments({ targetUserId: maker.user._id })).toBeGreaterThanOrEqual(2);
  });
});

describe('activity, tokens and token activity', () => {
  it('lists audit events about a user, newest first, paged and filtered by action', async () => {
    const u = await seedUser(h.ctx.models, { email: 'act@acme.test' });
    await put(`/v1/users/${u.user._id}/site-role`, { siteRole: 'PowerUsers' });
    await put(`/v1/users/${u.user._id}/site-role`, { siteRole: 'Users' });
    await post(`/v1/users/${u.user._id}/deactivate`);
    const res = json(await get(`/v1/users/act@acme.test/activity?limit=2&count=true`));
    expect(res.total).toBe(3);
    expect(res.hasMore).toBe(true);
    expect(res.events.map((e: any) => e.action)).toEqual(['user.deactivated', 'user.role_changed']);
    expect(res.events[0]).toMatchObject({ actorType: 'user', actorId: String(admin.user._id), actorEmail: 'root@acme.test', targetEmail: 'act@acme.test' });
    const roles = json(await get(`/v1/users/${u.user._id}/activity?action=user.role_changed&offset=1&count=true`));
    expect(roles.total).toBe(2);
    expect(roles.events[0].details).toEqual({ from: 'Users', to: 'PowerUsers' });
  });

  it('issues a token shown once, which then works, and shows it in token activity without any hash', async () => {
    const u = await seedUser(h.ctx.models, { email: 'tok@acme.test', siteRole: 'SecurityManagers' });
    const issued = await post('/v1/users/tok@acme.test/tokens', { name: 'ci', scope: ['api'], expiresInDays: 30 });
    expect(issued.statusCode).toBe(201);
    const t = json(issued);
    expect(t.token).toMatch(/^tnr_[A-Za-z0-9]{16}_/);
    expect(t).toMatchObject({ name: 'ci', scope: ['api'], active: true, userId: String(u.user._id) });
    expect(await auditOf('token.issued', u.user._id)).toHaveLength(1);

    const used = await h.app.inject({ method: 'GET', url: '/v1/users/search?email=tok@acme.test', headers: { authorization: `Bearer ${t.token}` } });
    expect(used.statusCode).toBe(200);
    // Usage is recorded after the answer is sent.
    const deadline = Date.now() + 5000;
    let activity: any;
    do {
      activity = json(await get(`/v1/users/${u.user._id}/token-activity`, auditor));
    } while (!activity.usage.some((x: any) => x.tokenId === t.tokenId) && Date.now() < deadline && (await new Promise((r) => setTimeout(r, 50))) === undefined);
    expect(activity.tokens.map((x: any) => x.tokenId)).toContain(t.tokenId);
    const usage = activity.usage.find((x: any) => x.tokenId === t.tokenId);
    expect(usage).toMatchObject({ method: 'GET', path: '/v1/users/search', status: 200 });
    expect(JSON.stringify(activity)).not.toMatch(/hash|tnr_/);
    const tokens = json(await get(`/v1/users/${u.user._id}/tokens`, auditor));
    expect(tokens.tokens).toHaveLength(2);
    expect(JSON.stringify(tokens)).not.toMatch(/hash/);
    const stored = await h.ctx.models.AccessToken.findOne({ tokenId: t.tokenId }).lean();
    expect(stored!.hash).not.toContain(t.token.split('_')[2]);
  });

  it('refuses a token for a user who is not active', async () => {
    const u = await seedUser(h.ctx.models, { status: 'pending' });
    const res = await post(`/v1/users/${u.user._id}/tokens`, {});
    expect(res.statusCode).toBe(409);
    expect(json(res).error.code).toBe('user_not_active');
  });
});

describe('groups', () => {
  it('creates a group (201), refuses a duplicate name (409), lists groups', async () => {
    const created = await post('/v1/groups', { name: 'Platform', description: 'platform team' });
    expect(created.statusCode).toBe(201);
    expect(json(created)).toMatchObject({ name: 'Platform', description: 'platform team', memberCount: 0 });
    const dup = await post('/v1/groups', { name: 'Platform' });
    expect(dup.statusCode).toBe(409);
    expect(json(dup).error.code).toBe('group_exists');
    const list = json(await get('/v1/groups'));
    expect(list.groups.map((g: any) => g.name)).toContain('Platform');
    expect(await auditOf('group.created')).not.toHaveLength(0);
  });
});

describe('GET /v1/users/export.csv', () => {
  it('streams name, email, role, status, last login, created with formula cells neutralised', async () => {
    await seedUser(h.ctx.models, { email: 'csv1@export.test', firstName: '=HYPERLINK("http://evil")', lastName: 'X' });
    await seedUser(h.ctx.models, { email: 'csv2@export.test', firstName: 'Plain', lastName: 'Name', status: 'pending' });
    const res = await get('/v1/users/export.csv?q=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="users-\d{4}-\d{2}-\d{2}\.csv"/);
    const lines = res.body.trim().split('\n');
    expect(lines[0]).toBe('name,email,role,status,lastLoginAt,createdAt');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^"'=HYPERLINK\(""http:\/\/evil""\) X",csv1@export\.test,Users,active,,\d{4}-/);
    expect(lines[2]).toMatch(/^Plain Name,csv2@export\.test,Users,pending,,/);
    expect(await auditOf('users.exported')).toHaveLength(1);
  });
});

describe('sessions', () => {
  it('a new session ends the previous one; introspection says which is current', async () => {
    const u = await seedUser(h.ctx.models);
    const first = await post(`/v1/users/${u.user._id}/sessions`, {});
    expect(first.statusCode).toBe(201);
    expect(json(first).endedPrevious).toBe(0);
    const second = await post(`/v1/users/${u.user._id}/sessions`, { userAgent: 'laptop' });
    expect(json(second).endedPrevious).toBe(1);
    const old = json(await post('/v1/sessions/introspect', { session: json(first).session }));
    expect(old).toMatchObject({ active: false, endedReason: 'superseded', userId: String(u.user._id) });
    const current = json(await post('/v1/sessions/introspect', { session: json(second).session }));
    expect(current).toMatchObject({ active: true, sessionId: json(second).sessionId });
    expect(json(await post('/v1/sessions/introspect', { session: 'never-issued' }))).toEqual({ active: false });
    expect(await auditOf('session.created', u.user._id)).toHaveLength(2);
    expect(json(await get(`/v1/users/${u.user._id}`)).lastLoginAt).toBeTruthy();
  });

  it('refuses a session for a deactivated user', async () => {
    const u = await seedUser(h.ctx.models, { status: 'deactivated' });
    const res = await post(`/v1/users/${u.user._id}/sessions`);
    expect(res.statusCode, res.body).toBe(409);
    expect(json(res).error.code).toBe('user_not_active');
  });
});

describe('GET /openapi.json', () => {
  it('documents every user route', async () => {
    const doc = json(await h.app.inject({ method: 'GET', url: '/openapi.json' }));
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/v1/users/search', '/v1/users/active', '/v1/users', '/v1/users/{idOrEmail}', '/v1/users/export.csv',
      '/v1/users/{idOrEmail}/deactivate', '/v1/users/{idOrEmail}/reactivate', '/v1/users/{idOrEmail}/site-role',
      '/v1/users/bulk/site-role', '/v1/users/{idOrEmail}/activity', '/v1/users/{idOrEmail}/tokens',
      '/v1/users/{idOrEmail}/token-activity', '/v1/users/{idOrEmail}/sessions', '/v1/sessions/introspect',
      '/v1/resources', '/v1/resources/{id}', '/v1/resources/{id}/transfer', '/v1/groups',
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(doc.paths['/v1/users/{idOrEmail}'].delete).toBeTruthy();
    expect(doc.paths['/v1/users/{idOrEmail}/site-role'].put.requestBody.content['application/json'].schema.properties.siteRole.enum).toEqual(['Administrators', 'PowerUsers', 'Users', 'Auditors', 'SecurityManagers']);
    expect(doc.paths['/v1/users/search'].get.responses['400']).toBeTruthy();
  });
});

describe('rules that span routes', () => {
  it('deactivation ends the current session at once', async () => {
    const u = await seedUser(h.ctx.models);
    const started = json(await post(`/v1/users/${u.user._id}/sessions`, {}));
    expect(json(await post('/v1/sessions/introspect', { session: started.session })).active).toBe(true);
    expect((await post(`/v1/users/${u.user._id}/deactivate`)).statusCode).toBe(200);
    const after = json(await post('/v1/sessions/introspect', { session: started.session }));
    expect(after).toMatchObject({ active: false, endedReason: 'deactivated' });
  });

  it('reactivation respects the plan limit (Starter: 5 seats) and changes nothing when refused', async () => {
    const u = await seedUser(h.ctx.models, { status: 'deactivated' });
    // Fill the Starter plan's five seats (active and pending users), whatever else this file seeded.
    const taken = await h.ctx.models.User.countDocuments({ status: { $in: ['active', 'pending'] } });
    for (let i = taken; i < 5; i++) await seedUser(h.ctx.models, { email: `seat-${i}@plan.test` });
    await h.ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { plan: 'Starter' } }, { upsert: true });
    try {
      const res = await post(`/v1/users/${u.user._id}/reactivate`);
      expect(res.statusCode).toBe(422);
      expect(json(res).error.code).toBe('plan_limit_reached');
      expect(json(res).error.details).toMatchObject({ plan: 'Starter', limit: 5 });
      expect((await h.ctx.models.User.findById(u.user._id).lean())!.status).toBe('deactivated');
    } finally {
      await h.ctx.models.OrgSettings.updateOne({ _id: 'org' }, { $set: { plan: 'Enterprise' } });
    }
    expect((await withWorker(h.ctx, () => post(`/v1/users/${u.user._id}/reactivate`))).statusCode).toBe(200);
  });

  it('Administrators can list deactivated users; the export covers every state', async () => {
    const gone = await seedUser(h.ctx.models, { email: 'listed.gone@states.test', status: 'deactivated' });
    const list = json(await get('/v1/users?status=deactivated&email=*@states.test'));
    expect(list.users.map((u: any) => u._id)).toEqual([String(gone.user._id)]);
    const csv = (await get('/v1/users/export.csv?status=deactivated')).body;
    expect(csv).toContain('listed.gone@states.test,Users,deactivated');
  });
});
