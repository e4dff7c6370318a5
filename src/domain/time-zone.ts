/**
 * Calendar dates in the organization's time zone, with the platform's Intl time-zone data (the
 * IANA database Node ships). Pure: no I/O.
 *
 * A wall-clock time is turned into an instant the way date libraries do it (luxon's fixOffset):
 * guess with the zone's offset at the naive instant, correct once with the offset at the guess,
 * and in a gap (a wall time that does not exist, as midnight on a day clocks jump forward at
 * 00:00) take the first instant after it.
 */

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `name` is a time zone the platform knows (an IANA name such as Europe/Berlin, or UTC). */
export function isTimeZone(name: string): boolean {
  if (!name || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The platform's canonical spelling of a known zone (`utc` → `UTC`, `europe/berlin` → `Europe/Berlin`). */
export function canonicalTimeZone(name: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
}

/** The zone's offset from UTC at instant `t`, in milliseconds (east positive). */
function zoneOffsetMs(t: number, zone: string): number {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(t))) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  const wall = Date.UTC(year, Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const whole = t - (((t % 1000) + 1000) % 1000);
  return wall - whole;
}

/** The instant at which the zone's clocks show this wall time (the first one after a gap). */
function wallTimeToInstant(wall: { year: number; month: number; day: number; hour?: number; minute?: number; second?: number; ms?: number }, zone: string): Date {
  const local = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour ?? 0, wall.minute ?? 0, wall.second ?? 0, wall.ms ?? 0);
  const o1 = zoneOffsetMs(local, zone);
  const guess = local - o1;
  const o2 = zoneOffsetMs(guess, zone);
  if (o1 === o2) return new Date(guess);
  const second = local - o2;
  const o3 = zoneOffsetMs(second, zone);
  if (o2 === o3) return new Date(second);
  // A gap: this wall time never shows; the clocks jump past it at the instant returned.
  return new Date(local - Math.min(o2, o3));
}

function parseDate(text: string): { year: number; month: number; day: number } | undefined {
  const m = DATE_ONLY.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  return { year, month, day };
}

/** The first instant of a calendar day (YYYY-MM-DD) in the zone. */
export function startOfDayIn(date: string, zone: string): Date {
  const d = parseDate(date);
  if (!d) throw new RangeError(`"${date}" is not a calendar date (YYYY-MM-DD)`);
  return wallTimeToInstant(d, zone);
}

/** The last millisecond of a calendar day (YYYY-MM-DD) in the zone: the next day's start, less 1 ms. */
export function endOfDayIn(date: string, zone: string): Date {
  const d = parseDate(date);
  if (!d) throw new RangeError(`"${date}" is not a calendar date (YYYY-MM-DD)`);
  const next = new Date(Date.UTC(d.year, d.month - 1, d.day + 1));
  return new Date(wallTimeToInstant({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() }, zone).getTime() - 1);
}

/**
 * When a leaver's access ends given their last working day as HR sends it: a date alone is the
 * end of that day in the organization's zone; a date-time without an offset is that wall time in
 * the zone; a date-time with an offset (or Z) is that instant. ISO 8601 with milliseconds, UTC.
 */
export function lastDayToEffectiveDate(text: string, zone: string): string {
  if (DATE_ONLY.test(text)) return endOfDayIn(text, zone).toISOString();
  const m = LOCAL_DATE_TIME.exec(text);
  if (m) {
    const date = parseDate(m[1]!);
    const [hour, minute, second] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
    if (!date || hour > 23 || minute > 59 || second > 59) throw new RangeError(`"${text}" is not a date-time`);
    return wallTimeToInstant({ ...date, hour, minute, second, ms: Number((m[5] ?? '0').slice(0, 3).padEnd(3, '0')) }, zone).toISOString();
  }
  const instant = WITH_OFFSET.test(text) && parseDate(text.slice(0, 10)) ? Date.parse(text) : NaN;
  if (Number.isNaN(instant)) throw new RangeError(`"${text}" is not an ISO date (YYYY-MM-DD) or date-time`);
  return new Date(instant).toISOString();
}

/** Whether `text` is a last day lastDayToEffectiveDate understands. */
export function isLastDay(text: string): boolean {
  try {
    lastDayToEffectiveDate(text, 'UTC');
    return true;
  } catch {
    return false;
  }
}
