/**
 * A real SMTP server (the smtp-server package) on a free loopback port that keeps every message
 * it receives, parsed enough for assertions.
 */
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/devstack/ports';

export interface CapturedMail {
  from: string;
  to: string[];
  raw: string;
  subject: string;
  messageId?: string;
  /** The raw message with quoted-printable soft breaks undone, for searching links and text. */
  body: string;
}

export interface TestSmtpServer {
  url: string;
  messages: CapturedMail[];
  to(address: string): CapturedMail[];
  close(): Promise<void>;
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: CapturedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const body = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          raw,
          subject: /^Subject: (.*)$/im.exec(raw)?.[1]?.trim() ?? '',
          messageId: /^Message-ID: (.*)$/im.exec(raw)?.[1]?.trim(),
          body,
        });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    to: (address) => messages.filter((m) => m.to.includes(address.toLowerCase())),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
