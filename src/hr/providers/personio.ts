/**
 * For HR systems that cannot sign (Personio's outgoing webhooks, integration platforms): the
 * generic JSON event authenticated by a static bearer token. Replays are harmless because the
 * event id makes a redelivery a no-op; there is no timestamp to check.
 */
import { UnauthorizedError } from '../../errors';
import { constantTimeEqual } from '../../security/secrets';
import { hrEventSchema } from '../events';
import { headerValue } from '../signatures';
import { parseJsonBody, validateBody } from './parse-json';
import type { HrProviderAdapter } from './types';

export const personioProvider: HrProviderAdapter = {
  name: 'personio',
  secret: (config) => config.HR_PERSONIO_TOKEN,
  authenticate({ headers }, token) {
    const header = headerValue(headers, 'authorization');
    const presented = header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
    if (!presented) throw new UnauthorizedError('Send the HR webhook token as "Authorization: Bearer <token>".', 'missing_token');
    if (!constantTimeEqual(presented, token)) throw new UnauthorizedError('The HR webhook token is wrong.', 'invalid_token');
  },
  parse({ rawBody }) {
    return [validateBody(hrEventSchema, parseJsonBody(rawBody), 'HR event')];
  },
};
