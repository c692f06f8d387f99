import { define, number, refine, string } from "superstruct";

/** Event ids travel in headers and idempotency keys, so: printable ASCII, no spaces. */
export const EventId = define<string>("event id", (value) =>
  typeof value === "string" && /^[\x21-\x7e]{1,200}$/.test(value) ? true : "must be 1 to 200 printable ASCII characters without spaces",
);

/** Entity types name actor namespaces; lower-case words only. */
export const EntityType = define<string>("entity type", (value) =>
  typeof value === "string" && /^[a-z][a-z0-9_-]{0,63}$/.test(value) ? true : "must be a lower-case word of up to 64 characters",
);

/** Entity ids appear in URLs and actor names (`tenant/type/id`), so '/' and spaces are excluded. */
export const EntityId = define<string>("entity id", (value) =>
  typeof value === "string" && /^[\x21-\x2e\x30-\x7e]{1,128}$/.test(value)
    ? true
    : "must be a string of 1 to 128 printable ASCII characters without spaces or '/'",
);

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** ISO-8601 timestamp with a zone, or epoch milliseconds within JavaScript's Date range. */
export const Timestamp = define<string | number>("timestamp", (value) => {
  if (typeof value === "string" && ISO_8601.test(value) && Number.isFinite(Date.parse(value))) return true;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 8_640_000_000_000_000) return true;
  return "must be an ISO-8601 date-time with a zone (2026-11-23T10:00:00Z) or epoch milliseconds";
});

/** Normalises a validated `Timestamp` to epoch ms, the one time unit used everywhere inside. */
export function toEpochMs(value: string | number): number {
  return typeof value === "number" ? value : Date.parse(value);
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
