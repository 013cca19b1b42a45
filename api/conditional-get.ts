// Conditional GET (RFC 9110 section 13.1.2, which replaced RFC 7232) by entity-tag only: the catalog's
// ETag, computed once per catalog version. No Last-Modified / If-Modified-Since: each API replica
// would date a catalog version by its own clock and its own first sight of it, and a date one
// replica sent could make another answer 304 for a catalog that changed since; the ETag (a hash of
// the bytes) is the same on every replica. A condition that does not parse is ignored, so whatever a
// client sends, it gets the full answer rather than an error or a wrong 304.

// One list member: empty members and spaces around commas are allowed (RFC 9110 5.6.1). Each
// part excludes what the next one starts with, so matching is linear in the header's length.
const LIST_MEMBER = /[ \t,]*(?:W\/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(?:,[ \t,]*|$)/y;

/**
 * True when a GET with this If-None-Match is answered 304 Not Modified: it names `etag` (a strong
 * tag, quotes included) with the weak comparison GET uses, or is `*`. A malformed list matches nothing.
 */
export function noneMatchFails(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header === etag) return true; // what a client that kept the tag sends
  const value = header.trim();
  if (value === '*') return true;
  let found = false;
  LIST_MEMBER.lastIndex = 0;
  while (LIST_MEMBER.lastIndex < value.length) {
    const member = LIST_MEMBER.exec(value);
    if (!member) return false;
    if (member[1] === etag) found = true;
  }
  return found;
}
