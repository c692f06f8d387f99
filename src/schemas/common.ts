import { define, number, refine, string } from "superstruct";

/**
 * Ids edgeflow gives its own events (timers such as the follow-up) start with this prefix, which a
 * client id may not: a client can then never send an id that collides with an internal one.
 */
export const INTERNAL_ID_PREFIX = "edgeflow:";

/** Event ids travel in headers and idempotency keys, so: printable ASCII, no spaces. */
export const EventId = define<string>("event id", (value) => {
  if (typeof value !== "string" || !/^[\x21-\x7e]{1,200}$/.test(value)) return "must be 1 to 200 printable ASCII characters without spaces";
  if (value.startsWith(INTERNAL_ID_PREFIX)) return `must not start with "${INTERNAL_ID_PREFIX}", which edgeflow keeps for its own events`;
  return true;
});

/** Entity types name actor namespaces; lower-case words only. */
export const EntityType = define<string>("entity type", (value) =>
  typeof value === "string" && /^[a-z][a-z0-9_-]{0,63}$/.test(value) ? true : "must be a lower-case word of up to 64 characters",
);

/**
 * Entity ids appear in URLs and actor names (`tenant/type/id`), so '/' and spaces are excluded, and
 * so are "." and "..", which a URL path resolves as segments (`/contacts/..` is the CRM's root).
 */
export const EntityId = define<string>("entity id", (value) => {
  if (typeof value !== "string" || !/^[\x21-\x2e\x30-\x7e]{1,128}$/.test(value)) {
    return "must be a string of 1 to 128 printable ASCII characters without spaces or '/'";
  }
  if (value === "." || value === "..") return 'must not be "." or ".."';
  return true;
});

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;

/** Days in a month of the proleptic Gregorian calendar (month 1–12). */
const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * True when every field of an ISO-8601 date-time names a real instant. `Date.parse` rolls
 * impossible dates over (2026-02-30 becomes 2 March), so each field is checked on its own.
 */
function isCalendarDate(text: string): boolean {
  const m = ISO_8601.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second = 0, zoneHours = 0, zoneMinutes = 0] = m.slice(1).map((part) => (part === undefined ? undefined : Number(part)));
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth(year!, month!)) return false;
  return hour! <= 23 && minute! <= 59 && second <= 59 && zoneHours <= 23 && zoneMinutes <= 59 && Number.isFinite(Date.parse(text));
}

/**
 * The earliest and latest event time edgeflow accepts: not before 1970, and at most this far
 * ahead of the receipt time (clients' clocks drift; anything further is a unit mistake, such as
 * epoch microseconds, which would also put the entity's timers past what alarms can hold).
 */
const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;

/** ISO-8601 date-time with a zone that names a real calendar date, or non-negative epoch ms. */
export const Timestamp = define<string | number>("timestamp", (value) => {
  if (typeof value === "string" && isCalendarDate(value)) return true;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return true;
  return "must be an ISO-8601 date-time with a zone naming a real date (2026-11-23T10:00:00Z) or epoch milliseconds";
});

/** Normalises a validated `Timestamp` to epoch ms, the one time unit used everywhere inside. */
export function toEpochMs(value: string | number): number {
  return typeof value === "number" ? value : Date.parse(value);
}

/** Why an event time is out of bounds relative to its receipt, or null when it is fine. */
export function timestampOutOfBounds(occurredAt: number, receivedAt: number): string | null {
  if (occurredAt < 0) return "must not be before 1970-01-01T00:00:00Z";
  if (occurredAt > receivedAt + MAX_CLOCK_SKEW_MS) {
    return "must not be more than 24 hours in the future (epoch milliseconds, not seconds or microseconds)";
  }
  return null;
}

// Deliberately simple: the local part and a dotted domain. Deliverability is the email API's job.
const EMAIL = /^[^\s@"<>()[\],;:]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

export const Email = define<string>("email", (value) =>
  typeof value === "string" && value.length <= 254 && EMAIL.test(value) ? true : "must be a valid email address",
);

/** Non-empty string after trimming. */
export const NonEmpty = refine(string(), "non-empty", (value) => value.trim().length > 0 || "must not be empty");

// ISO 4217 active codes. A static list, because Intl's currency list varies by runtime build.
const ISO_4217 = new Set(
  (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD " +
    "CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL " +
    "GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD " +
    "KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR " +
    "NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN " +
    "SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG " +
    "XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL"
  ).split(" "),
);

export const Currency = define<string>("currency", (value) =>
  typeof value === "string" && ISO_4217.has(value) ? true : "must be an ISO 4217 currency code such as USD",
);

/** A finite number strictly greater than zero. */
export const PositiveAmount = refine(number(), "positive", (value) => (Number.isFinite(value) && value > 0) || "must be greater than 0");

/** An absolute http(s) URL. */
export const HttpUrl = define<string>("HttpUrl", (value) => {
  if (typeof value !== "string" || value.length > 2048) return "expected an http(s) URL";
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? true : "expected an http(s) URL";
  } catch {
    return "expected an http(s) URL";
  }
});
