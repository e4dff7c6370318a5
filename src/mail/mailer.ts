import nodemailer, { type Transporter } from 'nodemailer';

export interface OutgoingMail {
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

/** Sends mail through the SMTP server of SMTP_URL. */
export function createMailer(options: { smtpUrl: string; from: string }): Mailer {
  const transport: Transporter = nodemailer.createTransport(options.smtpUrl);
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
