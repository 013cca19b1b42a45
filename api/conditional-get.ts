// Conditional GET (RFC 9110 section 13, which replaced RFC 7232) for a representation whose
// validators are computed in advance: the catalog's ETag and Last-Modified, once per catalog
// version. A condition that does not parse is ignored, so whatever a client sends, it gets the
// full answer rather than an error or a wrong 304.

/** The validators of one version of a representation. */
export interface Validators {
  /** A strong entity-tag, quotes included. */
  etag: string;
  /** The HTTP-date sent as Last-Modified. */
  lastModified: string;
  /** An If-Modified-Since at or after this instant (ms) means the client has this version. */
  unchangedSince: number;
}

/**
 * True when the answer is 304 Not Modified: If-None-Match names the version's tag (weak
 * comparison, `*` matches); without If-None-Match, If-Modified-Since is a valid date, not in the
 * future, and not before the version's `unchangedSince`.
 */
export function notModified(ifNoneMatch: string | undefined, ifModifiedSince: string | undefined, version: Validators, now = Date.now()): boolean {
  if (ifNoneMatch !== undefined) return noneMatchFails(ifNoneMatch, version.etag);
  if (ifModifiedSince === undefined) return false;
  const since = parseHttpDate(ifModifiedSince);
  // A date in the future is not one this server sent; trusting it would hide every change until then.
  return since !== undefined && since <= now && since >= version.unchangedSince;
}

// One list member: empty members and spaces around commas are allowed (RFC 9110 5.6.1). Each
// part excludes what the next one starts with, so matching is linear in the header's length.
const LIST_MEMBER = /[ \t,]*(?:W\/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(?:,[ \t,]*|$)/y;

/** If-None-Match evaluated against `etag` with the weak comparison GET uses; a malformed list matches nothing. */
export function noneMatchFails(header: string, etag: string): boolean {
  if (header === etag) return true; // what a client that kept the tag sends
  const value = header.trim();
  if (value === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  let found = false;
  LIST_MEMBER.lastIndex = 0;
  while (LIST_MEMBER.lastIndex < value.length) {
    const member = LIST_MEMBER.exec(value);
    if (!member) return false;
    if (member[1] === opaque) found = true;
  }
  return found;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const DAY = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// The three forms a recipient must accept (RFC 9110 5.6.7): IMF-fixdate, rfc850-date, asctime-date.
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^(?:${DAY}) (${MONTH}) ([ \\d]\\d) ${TIME} (\\d{4})$`);

/** An HTTP-date in ms since the epoch; undefined for anything else (including impossible dates such as 31 Feb). */
export function parseHttpDate(value: string, now = Date.now()): number | undefined {
  let m: RegExpExecArray | null;
  let date: { day: string; month: string; year: number; time: string[] } | undefined;
  if ((m = IMF_FIXDATE.exec(value))) date = { day: m[1]!, month: m[2]!, year: Number(m[3]), time: m.slice(4, 7) };
  else if ((m = RFC850_DATE.exec(value))) {
    // A two-digit year more than 50 years ahead is the latest past year with those digits.
    const thisYear = new Date(now).getUTCFullYear();
    const year = Math.floor(thisYear / 100) * 100 + Number(m[3]);
    date = { day: m[1]!, month: m[2]!, year: year > thisYear + 50 ? year - 100 : year, time: m.slice(4, 7) };
  } else if ((m = ASCTIME_DATE.exec(value))) date = { day: m[2]!.trim(), month: m[1]!, year: Number(m[6]), time: m.slice(3, 6) };
  if (!date) return undefined;
  const [hour, minute, second] = date.time.map(Number) as [number, number, number];
  const day = Number(date.day);
  const month = MONTHS.indexOf(date.month);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  // A leap second (60) counts as the last second of its minute.
  const at = Date.UTC(date.year, month, day, hour, minute, Math.min(second, 59));
  const check = new Date(at);
  // Date.UTC rolls 31 Feb over into March, and reads years below 100 as 19xx: both are refused here.
  return check.getUTCFullYear() === date.year && check.getUTCMonth() === month && check.getUTCDate() === day ? at : undefined;
}
