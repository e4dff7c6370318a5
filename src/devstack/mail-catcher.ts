/**
 * The local stack's outgoing mail: an SMTP server on loopback (the smtp-server package) that keeps
 * every message as an .eml file in `<data dir>/mail/` and prints one line per message to the
 * terminal with its recipients, subject and first link, so that an invitation or a sign-in link
 * can be opened from where `npm start` runs. Only for `npm start`, never in production.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from './ports';

export interface CaughtMail {
  to: string[];
  subject: string;
  /** The first http(s) link of the text body, if any. */
  link?: string;
  file: string;
}

export interface MailCatcher {
  url: string;
  dir: string;
  close(): Promise<void>;
}

/** Starts the catcher; `onMail` hears of each message once it is stored. */
export async function startMailCatcher(dataDir: string, onMail: (mail: CaughtMail) => void): Promise<MailCatcher> {
  const dir = join(dataDir, 'mail');
  mkdirSync(dir, { recursive: true });
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        count += 1;
        const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${count}.eml`);
        writeFileSync(file, raw, { mode: 0o600 });
        simpleParser(raw)
          .then((parsed) => {
            const link = /https?:\/\/\S+/.exec(parsed.text ?? '')?.[0];
            onMail({ to: session.envelope.rcptTo.map((r) => r.address), subject: parsed.subject ?? '', link, file });
          })
          .catch(() => onMail({ to: session.envelope.rcptTo.map((r) => r.address), subject: '(unreadable message)', file }))
          .finally(() => callback());
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    dir,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
