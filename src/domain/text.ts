/**
 * The one rule for human-readable text that tenure stores (names, titles, reasons, user names).
 * Every way in (API, SCIM, HR, Slack, bootstrap) validates through these, so a value refused
 * on one is refused on all.
 */
import { z } from 'zod';

// C0 controls (NUL, tab, newline included), DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// What a decoder puts in place of broken or overlong UTF-8: the input was not valid UTF-8.
const REPLACEMENT = /\uFFFD/;
// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored as a single-line text value, or null when it can. */
export function textProblem(text: string): string | null {
  if (LONE_SURROGATE.test(text)) return 'contains a lone surrogate (not valid Unicode)';
  if (REPLACEMENT.test(text)) return 'contains bytes that are not valid UTF-8';
  if (CONTROL.test(text)) return 'contains a control character';
  return null;
}

/**
 * Text a person types (names, titles, reasons, descriptions, search words) as a zod string:
 * trimmed, 1 to `max` characters, well-formed Unicode without control characters.
 */
export function freeText(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .superRefine((text, ctx) => {
      const problem = textProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}
