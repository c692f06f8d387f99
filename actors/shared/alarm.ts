import { addUsage, type UsageKey } from "../../src/usage.ts";

/**
 * How far ahead an alarm may be set. workerd refuses dates after 2189, and nothing edgeflow
 * schedules is legitimately more than a year away; a later due time just wakes the actor early,
 * finds nothing due, and re-arms.
 */
export const MAX_ALARM_AHEAD_MS = 365 * 24 * 60 * 60 * 1000;

/** The time an alarm for `at` is actually set to: clamped to [any past time, now + a year]. */
export function alarmTime(at: number, now = Date.now()): number {
  if (!Number.isFinite(at)) return now;
  return Math.min(at, now + MAX_ALARM_AHEAD_MS);
}

/**
 * Which usage counter an actor class's key-value storage writes go to. Cloudflare bills each
 * `setAlarm()`, `deleteAlarm()` and `deleteAll()` as a row written, so they are counted where
 * they are made, beside the SQL rows.
 */
type KvMeter = Extract<UsageKey, "entityKvWrites" | "tenantKvWrites">;

// This module is the one place the actors set or delete their alarm (and delete all their
// storage), so no stored time can make `setAlarm` throw and every billed call is counted.

/**
 * Points the alarm at `at` (clamped), or deletes it when there is nothing to wake for. Each is done
 * only when it changes something: an alarm that just ran is no longer set, so a turn that leaves
 * nothing to do costs no `deleteAlarm` (a billed row) on top of the `setAlarm` that woke it.
 */
export async function pointAlarm(storage: DurableObjectStorage, at: number | null, meter: KvMeter): Promise<void> {
  const current = await storage.getAlarm();
  if (at === null) {
    if (current !== null) await deleteAlarm(storage, meter);
    return;
  }
  const target = alarmTime(at);
  if (alarmMoves(current, target, Date.now())) await setAlarm(storage, target, meter);
}

/**
 * Whether an alarm set for `current` must be set again to wake at `target`. Not when both times
 * have come: an alarm already due fires at once either way (as when an ingest set it for its event
 * a moment before the turn that points it at "now" again).
 */
export function alarmMoves(current: number | null, target: number, now: number): boolean {
  if (current === null) return true;
  return current !== target && !(current <= now && target <= now);
}

/** Moves the alarm earlier to `at` if it is unset or later; never later. */
export async function wakeBy(storage: DurableObjectStorage, at: number, meter: KvMeter): Promise<void> {
  const target = alarmTime(at);
  const current = await storage.getAlarm();
  if (current === null || current > target) await setAlarm(storage, target, meter);
}

async function setAlarm(storage: DurableObjectStorage, at: number, meter: KvMeter): Promise<void> {
  addUsage(meter);
  await storage.setAlarm(at);
}

export async function deleteAlarm(storage: DurableObjectStorage, meter: KvMeter): Promise<void> {
  addUsage(meter);
  await storage.deleteAlarm();
}

/** Deletes every row and the alarm (an erasure): two billed calls. */
export async function deleteEverything(storage: DurableObjectStorage, meter: KvMeter): Promise<void> {
  await deleteAlarm(storage, meter);
  addUsage(meter);
  await storage.deleteAll();
}
