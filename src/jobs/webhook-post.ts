/**
 * One POST to a webhook receiver, on an address the receiver rule accepts
 * (domain/receiver-address.ts). A literal address is checked before connecting; a name is
 * resolved by the connection's own lookup, which hands the socket only the addresses that pass,
 * so the address checked is the address connected to (a DNS answer that changes between a check
 * and the connection cannot slip a private address in). Redirects are not followed.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { literalAddress, receiverAddressRefusal, type ReceiverAllowList } from '../domain/receiver-address';

/** The receiver is on an address the rule refuses: not worth retrying until the setting or its DNS changes. */
export class ReceiverRefused extends Error {
  override readonly name = 'WebhookReceiverRefused';
}

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  receivers: ReceiverAllowList;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net/tls that resolves, keeps the accepted addresses, and refuses when none is. */
function checkedLookup(receivers: ReceiverAllowList) {
  return (hostname: string, options: { family?: number; all?: boolean; hints?: number }, callback: LookupCallback): void => {
    dnsLookup(hostname, { family: options.family ?? 0, hints: options.hints, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const accepted: LookupAddress[] = [];
      let refusal: string | undefined;
      for (const candidate of addresses) {
        const problem = receiverAddressRefusal(candidate.address, hostname, receivers);
        if (problem) refusal ??= problem;
        else accepted.push(candidate);
      }
      if (!accepted.length) return callback(new ReceiverRefused(`${hostname} resolves to no acceptable address: ${refusal ?? 'no address'}`), []);
      if (options.all) return callback(null, accepted);
      return callback(null, accepted[0]!.address, accepted[0]!.family);
    });
  };
}

/** No answer within the timeout. */
export class ReceiverTimedOut extends Error {
  override readonly name = 'WebhookReceiverTimedOut';
}

/** POSTs the body; resolves with the response status, rejects with ReceiverRefused, ReceiverTimedOut or the connection's error. */
export function postWebhook(post: WebhookPost): Promise<number> {
  const target = new URL(post.url);
  const literal = literalAddress(target.hostname);
  if (literal) {
    const refusal = receiverAddressRefusal(literal, target.hostname, post.receivers);
    if (refusal) return Promise.reject(new ReceiverRefused(refusal));
  }
  const signal = AbortSignal.timeout(post.timeoutMs);
  const options: RequestOptions = {
    method: 'POST',
    headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) },
    // A connection of its own each time: a pooled socket would skip the lookup.
    agent: false,
    lookup: checkedLookup(post.receivers) as unknown as RequestOptions['lookup'],
    signal,
  };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = send(target, options, (res) => {
      // Only the status matters; the body is read away.
      res.resume();
      res.on('error', () => undefined);
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err) => reject(signal.aborted && !(err instanceof ReceiverRefused) ? new ReceiverTimedOut(`no answer within ${post.timeoutMs} ms`) : err));
    req.end(post.body);
  });
}
