// The tenant's settings: retention, erasure, what the D1 mirror keeps.
import type { SettingsPatch, TenantSettings } from "../control/settings.ts";
import { arrayOf, bool, dateTime, error, gone, int, json, noContent, nullable, obj, ref, route, str, withBody } from "./route.ts";

export const settingsRoutes = {
  getSettings: route<TenantSettings>()({
    method: "GET",
    path: "/v1/settings",
    auth: "tenant",
    summary: "The tenant's settings (docs/configuration.md): retention windows (null: no limit), whether an erased entity may be created again, what the D1 mirror keeps",
    answers: { 200: json(ref("Settings"), "Settings") },
  }),
  updateSettings: route<TenantSettings, SettingsPatch>()({
    method: "PATCH",
    path: "/v1/settings",
    auth: "tenant",
    summary:
      "Change settings; fields left out keep their value, null clears a limit. Events past either retention window that every handler has settled (no pending retry or replay, no dead letter) are compacted away: state stays, and their ids stay known, so a repeat is answered duplicate (with seq 0, and without the content check, as the content is gone). With erasure.allowRecreate, an event for an entity erased on request starts it afresh instead of 410 entity_erased",
    body: { schema: ref("SettingsChange") },
    answers: { 200: json(ref("Settings"), "The settings now"), ...withBody },
  }),
};
