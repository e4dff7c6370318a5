import nodemailer, { type Transporter } from 'nodemailer';

interface OutgoingMail {
  to: string | string[];
  subject: string;
  text: string;
  html: string;
  /** Stable Message-ID: a retried send carries the same id, so duplicates are recognisable. */
  messageId?: string;
  headers?: Record<string, string>;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): void;
}

/**
 * Sends mail through the SMTP server of SMTP_URL over a small pool of kept-open connections
 * (nodemailer's `pool`), so a burst of notifications does not open one connection per message.
 * A `pool=` already in the URL wins.
 */
export function createMailer(options: { smtpUrl: string; from: string }): Mailer {
  const url = new URL(options.smtpUrl);
  if (!url.searchParams.has('pool')) url.searchParams.set('pool', 'true');
  const transport: Transporter = nodemailer.createTransport(url.toString());
  return {
    async send(mail) {
      const info = await transport.sendMail({ from: options.from, ...mail });
      return { messageId: info.messageId };
    },
    close() {
      transport.close();
    },
  };
}
