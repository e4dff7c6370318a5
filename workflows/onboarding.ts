/**
 * Onboarding: create the pending user → email the invitation → wait for
 * acceptance, admin completion, admin resend / new link, cancel, the end of the account's access
 * (lockout, deactivation, delete), or expiry → resend on expiry up to the organization's limit,
 * then mark the invitation expired and tell the requester.
 *
 * One loop owns every side effect: signal and update handlers only queue a command and wait
 * for the loop to carry it out, so two actions never interleave.
 *
 * Versioning: a change of behaviour is wrapped in `patched('<change-id>')`, keeping recorded
 * histories (test/replay/histories/onboarding-*.json) replayable. Patches:
 * `onboarding-status-search-attribute` (each state is published as the TenureStatus search
 * attribute; decided once per run, so a run started before it publishes none).
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from './errors';
import {
  accessEndedSignal,
  cancelOnboardingUpdate,
  completeRegistrationUpdate,
  FINISHED_STATES,
  invitationAcceptedSignal,
  issueInvitationLinkUpdate,
  onboardingProgressQuery,
  resendInvitationUpdate,
  type Caller,
  type CompleteRegistrationArgs,
  type InvitationIssued,
  type OnboardingInput,
  type OnboardingProgress,
  type OnboardingResult,
  type OnboardingState,
  type OnboardingWorkflow,
} from './onboarding-messages';
import { TENURE_PROCESS, TENURE_STATUS, TENURE_SUBJECT } from './search-attributes';

export * from './onboarding-messages';

// Clients start it by name with the signature they share (onboarding-messages.ts).
onboardingWorkflow satisfies OnboardingWorkflow;

const store = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

// An invitation email reaches a person: retried a few times only (each send is idempotent anyway).
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

// Notifications are capped at two attempts so nobody gets spammed.
const notify = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 2, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

type Command =
  | { kind: 'accepted' }
  | { kind: 'resend'; caller: Caller }
  | { kind: 'link'; caller: Caller; tokenHash: string }
  | { kind: 'complete'; args: CompleteRegistrationArgs }
  | { kind: 'cancel'; caller: Caller; reason?: string }
  | { kind: 'access-ended'; reason: string };

interface Pending {
  command: Command;
  done: boolean;
  result?: unknown;
  error?: ApplicationFailure;
}

/** What a continued run carries over (long-running invitations with many admin resends). */
export interface OnboardingCarry {
  progress: OnboardingProgress;
}

const HISTORY_LIMIT = 50;

export async function onboardingWorkflow(input: OnboardingInput, carry?: OnboardingCarry): Promise<OnboardingResult> {
  const info = workflowInfo();
  const ref = { workflowId: info.workflowId, processId: `${info.workflowId}/${info.firstExecutionRunId}` };
  const progress: OnboardingProgress = carry?.progress ?? {
    workflowId: info.workflowId,
    email: input.email.trim().toLowerCase(),
    state: 'creating-user',
    sends: 0,
    maxSends: 1,
    requestedBy: input.requestedBy,
    source: input.source,
    history: [],
  };
  const queue: Pending[] = [];
  // Whether this run publishes its state as TenureStatus: asked once, before its first command.
  const publishesState = patched('onboarding-status-search-attribute');
  const stateAttribute = () => (publishesState ? [{ key: TENURE_STATUS, value: progress.state }] : []);
  /** Moves to `state`, published as the TenureStatus search attribute (so a reader need not query to know it). */
  const enter = (state: OnboardingState) => {
    if (state === progress.state) return;
    progress.state = state;
    if (publishesState) upsertSearchAttributes(stateAttribute());
  };
  /** How this run's first invitation went: what an update naming `input.firstTokenHash` answers. */
  let firstLink: { issued?: InvitationIssued; error?: ApplicationFailure } | undefined;

  const step = (name: string, detail?: string) => {
    progress.history.push({ at: new Date().toISOString(), step: name, ...(detail ? { detail } : {}) });
    if (progress.history.length > HISTORY_LIMIT) progress.history.splice(1, progress.history.length - HISTORY_LIMIT);
  };
  const finished = () => FINISHED_STATES.includes(progress.state);
  const assertActionable = (caller: Caller) => {
    if (caller?.role !== 'Administrators') {
      throw ApplicationFailure.create({ type: ErrorType.NotAdministrator, message: 'Only Administrators may act on an onboarding.', nonRetryable: true });
    }
    if (finished()) {
      throw ApplicationFailure.create({ type: ErrorType.ProcessFinished, message: `This onboarding has already ended (${progress.state}).`, nonRetryable: true });
    }
  };
  const submit = async <T>(command: Command): Promise<T> => {
    const pending: Pending = { command, done: false };
    queue.push(pending);
    await condition(() => pending.done);
    if (pending.error) throw pending.error;
    return pending.result as T;
  };

  setHandler(onboardingProgressQuery, () => progress);
  setHandler(invitationAcceptedSignal, () => {
    if (!finished()) queue.push({ command: { kind: 'accepted' }, done: false });
  });
  // New with the access-ended signal; histories recorded before it never carry the signal, so
  // they replay through the same commands.
  setHandler(accessEndedSignal, ({ reason }) => {
    if (!finished()) queue.push({ command: { kind: 'access-ended', reason }, done: false });
  });
  setHandler(resendInvitationUpdate, ({ caller }) => submit<InvitationIssued>({ kind: 'resend', caller }), { validator: ({ caller }) => assertActionable(caller) });
  // The update that started this run (update-with-start, "copy invitation link") names the run's
  // own first link: it is answered with the first invitation, or the refusal, not queued again.
  setHandler(issueInvitationLinkUpdate, async ({ caller, tokenHash }) => {
    if (!carry && input.firstTokenHash && tokenHash === input.firstTokenHash) {
      await condition(() => firstLink !== undefined);
      if (firstLink!.error) throw firstLink!.error;
      return firstLink!.issued!;
    }
    return submit<InvitationIssued>({ kind: 'link', caller, tokenHash });
  }, {
    validator: ({ caller, tokenHash }) => {
      assertActionable(caller);
      if (!/^[0-9a-f]{64}$/.test(tokenHash ?? '')) throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'tokenHash must be a SHA-256 hex digest.', nonRetryable: true });
    },
  });
  setHandler(completeRegistrationUpdate, (args) => submit<OnboardingResult>({ kind: 'complete', args }), {
    validator: (args) => {
      assertActionable(args.caller);
      if (progress.state === 'accepted' || progress.state === 'completed') {
        throw ApplicationFailure.create({ type: ErrorType.AlreadyActive, message: `${progress.email} is already active.`, nonRetryable: true });
      }
    },
  });
  setHandler(cancelOnboardingUpdate, ({ caller, reason }) => submit<OnboardingResult>({ kind: 'cancel', caller, reason }), { validator: ({ caller }) => assertActionable(caller) });

  const result = (): OnboardingResult => ({ state: progress.state, userId: progress.userId, sends: progress.sends, ...(progress.refusal ? { refusal: progress.refusal } : {}) });

  const finish = async (): Promise<OnboardingResult> => {
    // Commands that arrived with or after the final one are answered, not dropped.
    for (const pending of queue.splice(0)) {
      pending.error = ApplicationFailure.create({ type: ErrorType.ProcessFinished, message: `This onboarding has already ended (${progress.state}).`, nonRetryable: true });
      pending.done = true;
    }
    firstLink ??= { error: ApplicationFailure.create({ type: ErrorType.ProcessFinished, message: `This onboarding has already ended (${progress.state}).`, nonRetryable: true }) };
    await condition(allHandlersFinished);
    return result();
  };

  // A continued run keeps its search attributes; one continued from a run that published none publishes its state now.
  if (carry && publishesState) upsertSearchAttributes(stateAttribute());
  if (!carry) {
    upsertSearchAttributes([
      { key: TENURE_PROCESS, value: 'onboarding' },
      { key: TENURE_SUBJECT, value: progress.email },
      ...stateAttribute(),
    ]);
    step('started', `${input.source} request`);
    try {
      const ensured = await store.ensureOnboardingUser({ ...ref, request: input });
      progress.userId = ensured.userId;
      progress.sends = ensured.sendCount;
      progress.maxSends = Math.max(ensured.maxSends, ensured.sendCount + 1);
      step('user-ready', ensured.sendCount ? `continuing after ${ensured.sendCount} earlier send(s)` : undefined);
    } catch (err) {
      const failure = applicationFailureOf(err);
      if (!failure) throw err;
      const code = (failure.details?.[0] as { code?: string } | undefined)?.code ?? failure.type ?? 'refused';
      enter('refused');
      progress.refusal = { code, message: failure.message };
      step('refused', code);
      firstLink = { error: ApplicationFailure.create({ type: failure.type ?? ErrorType.Conflict, message: failure.message, details: failure.details ?? undefined, nonRetryable: true }) };
      return finish();
    }
    enter('invited');
    const first = input.firstTokenHash
      ? await issue({ kind: 'link', caller: { id: input.requestedBy.id ?? 'system', role: 'Administrators' }, tokenHash: input.firstTokenHash })
      : await issue({ kind: 'first' });
    firstLink =
      typeof first === 'string'
        ? { error: ApplicationFailure.create({ type: ErrorType.AlreadyActive, message: `${progress.email} is no longer pending (${first}).`, nonRetryable: true }) }
        : { issued: first };
    // The user stopped being pending before the first send (accepted through an older link, say).
    if (typeof first === 'string') return endNotPending(first);
  }

  /** Sends (or installs) the next invitation; returns the user's status when they are no longer pending. */
  async function issue(how: { kind: 'first' | 'expired' } | Extract<Command, { kind: 'resend' | 'link' }>): Promise<InvitationIssued | string> {
    const sendNumber = progress.sends + 1;
    const sent =
      how.kind === 'link'
        ? await store.installInvitationLink({ ...ref, userId: progress.userId!, sendNumber, tokenHash: how.tokenHash, caller: how.caller })
        : await mail.sendInvitation({ ...ref, userId: progress.userId!, sendNumber, requestedBy: how.kind === 'resend' ? { type: 'user', id: how.caller.id, email: how.caller.email } : input.requestedBy });
    if (!sent.issued) return sent.status;
    progress.sends = sendNumber;
    progress.expiresAt = sent.expiresAt;
    step(how.kind === 'link' ? 'link-issued' : 'invitation-sent', `#${sendNumber} (${how.kind})`);
    return { sendNumber, expiresAt: sent.expiresAt! };
  }

  async function accepted(): Promise<OnboardingResult> {
    enter('accepted');
    step('accepted');
    await notify.notifyRequester({ ...ref, userId: progress.userId!, requestedBy: input.requestedBy, outcome: 'accepted', sends: progress.sends }).catch(ignoreNotificationFailure);
    return finish();
  }

  /** The user left "pending" outside this process: accepted meanwhile, or deactivated by someone. */
  async function endNotPending(status: string): Promise<OnboardingResult> {
    if (status === 'active') return accepted();
    enter('cancelled');
    step('cancelled', `the user became ${status} outside this process`);
    return finish();
  }

  for (;;) {
    if (workflowInfo().continueAsNewSuggested && queue.length === 0) {
      await condition(allHandlersFinished);
      if (queue.length === 0) await continueAsNew<typeof onboardingWorkflow>(input, { progress });
    }
    const waitMs = Math.max(0, Date.parse(progress.expiresAt ?? new Date().toISOString()) - Date.now());
    const commandArrived = await condition(() => queue.length > 0, waitMs);

    if (!commandArrived) {
      if (progress.sends < progress.maxSends) {
        step('expired', `#${progress.sends}; sending a new link`);
        const sent = await issue({ kind: 'expired' });
        if (typeof sent === 'string') return endNotPending(sent);
        continue;
      }
      await store.markInvitationExpired({ ...ref, userId: progress.userId!, sends: progress.sends });
      enter('expired');
      step('expired', `no answer after ${progress.sends} send(s)`);
      await notify.notifyRequester({ ...ref, userId: progress.userId!, requestedBy: input.requestedBy, outcome: 'expired', sends: progress.sends }).catch(ignoreNotificationFailure);
      return finish();
    }

    const pending = queue.shift()!;
    const { command } = pending;
    try {
      switch (command.kind) {
        case 'accepted': {
          const { active } = await store.confirmAcceptance({ ...ref, userId: progress.userId! });
          pending.done = true;
          if (active) return accepted();
          break;
        }
        case 'resend':
        case 'link': {
          const issued = await issue(command);
          if (typeof issued === 'string') {
            pending.error = ApplicationFailure.create({ type: ErrorType.AlreadyActive, message: `${progress.email} is no longer pending (${issued}).`, nonRetryable: true });
            pending.done = true;
            return endNotPending(issued);
          }
          pending.result = issued;
          break;
        }
        case 'complete': {
          const { caller, siteRole, groups } = command.args;
          await store.completeRegistration({ ...ref, userId: progress.userId!, caller, siteRole, groups });
          enter('completed');
          step('completed', `by ${caller.email ?? caller.id} as ${siteRole}`);
          pending.result = result();
          pending.done = true;
          await notify.notifyRequester({ ...ref, userId: progress.userId!, requestedBy: input.requestedBy, outcome: 'completed', sends: progress.sends }).catch(ignoreNotificationFailure);
          return finish();
        }
        case 'access-ended': {
          // The store withdrew the invitation when access ended; nothing is left to send.
          enter('cancelled');
          step('cancelled', `access ended (${command.reason})`);
          pending.done = true;
          return finish();
        }
        case 'cancel': {
          await store.cancelInvitation({ ...ref, userId: progress.userId!, caller: command.caller, reason: command.reason });
          enter('cancelled');
          step('cancelled', `by ${command.caller.email ?? command.caller.id}`);
          pending.result = result();
          pending.done = true;
          return finish();
        }
      }
    } catch (err) {
      // A refused admin action (unknown group, already active…) fails that update, not the process.
      const failure = applicationFailureOf(err);
      if (!failure || isCancellation(err)) throw err;
      pending.error = ApplicationFailure.create({ type: failure.type ?? ErrorType.Conflict, message: failure.message, details: failure.details ?? undefined, nonRetryable: true });
    }
    pending.done = true;
  }
}

/** The ApplicationFailure behind an activity failure, if it is one. */
function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  if (err instanceof ApplicationFailure) return err;
  const cause = (err as { cause?: unknown })?.cause;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

function ignoreNotificationFailure(): { notified: false } {
  // A lost notice must not undo or block the onboarding itself; the audit log keeps the outcome.
  return { notified: false };
}
