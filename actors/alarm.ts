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

// This module is the one place the actors set their alarm, so no stored time (however it got
// there) can make `setAlarm` throw and take every alarm turn of that actor down with it.

/** Points the alarm at `at` (clamped), or deletes it when there is nothing to wake for. */
export async function pointAlarm(storage: DurableObjectStorage, at: number | null): Promise<void> {
  if (at === null) {
    await storage.deleteAlarm();
    return;
  }
  const target = alarmTime(at);
  if ((await storage.getAlarm()) !== target) await storage.setAlarm(target);
}

/** Moves the alarm earlier to `at` if it is unset or later; never later. */
export async function wakeBy(storage: DurableObjectStorage, at: number): Promise<void> {
  const target = alarmTime(at);
  const current = await storage.getAlarm();
  if (current === null || current > target) await storage.setAlarm(target);
}
