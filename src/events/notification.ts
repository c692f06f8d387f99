// What an event type says to people, belonging to no chat service: Slack, Discord and Teams each
// render it (src/handlers/slack.ts, discord.ts, teams.ts), and each escapes client text its own way.
// Definitions therefore put client values here as they came, never pre-escaped.
import type { EntityRef, JsonObject } from "../types.ts";

/** Plain text, or a value to emphasise (a name, an amount). */
export type Segment = string | { strong: string };

export interface Notification {
  /** An emoji shortcode without colons (`wave`); services without shortcodes map or drop it. */
  icon: string;
  /** A short plain-text headline (`New lead`): Discord's embed title, Teams' card heading. */
  title: string;
  /** The one-line message. */
  text: Segment[];
  /** Facts shown beside it (Discord embed fields, a Teams fact set); values are client text. */
  fields: Array<{ name: string; value: string }>;
}

/** The message, or why nothing should be posted (the delivery ends `skipped`). */
export type NotificationResult = Notification | { skip: string };

/** What a definition's `notify` sees of one delivery. */
export interface NotificationInput {
  event: { type: string; data: JsonObject };
  entity: EntityRef;
  /** The entity's current state. */
  state: JsonObject;
}

/** A client value as text; anything but a string or number shows as `fallback`. */
export function shown(value: unknown, fallback = "?"): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : fallback;
}

