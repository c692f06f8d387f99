// Text that came from outside (a receiver's answer, a tenant's name for something) on its way to
// a terminal, a log or storage: control characters removed, so it cannot move a cursor, set a
// title, plant a hyperlink or reorder what is shown around it.

/**
 * C0 and C1 control characters, DEL, and the Unicode bidirectional overrides and isolates.
 * Tab, line feed and carriage return become spaces; the rest are removed.
 */
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const BREAKS = /[\t\n\r\u2028\u2029]/g;

/** `text` without control characters, cut to at most `max` characters. */
export function withoutControls(text: string, max = Number.POSITIVE_INFINITY): string {
  return text.replace(BREAKS, " ").replace(CONTROLS, "").slice(0, max);
}


/**
 * Client text for one line of a chat message: line breaks (and the Unicode line and paragraph
 * separators) flattened to spaces, control and bidirectional-override characters removed, runs of
 * spaces folded. A lead's name can then never start a line of its own, so it cannot forge a
 * second message line, a list item or a quote below the real one.
 */
export function oneLine(text: string): string {
  return withoutControls(text).replace(/ {2,}/g, " ");
}
