// What marks event data kept in R2 (src/payloads.ts), apart from the code that reads and writes
// it, so the envelope's check and the types need no Workers binding.

/** The field that marks a stored reference; a client's data cannot have it (refused at the boundary). */
export const PAYLOAD_MARK = "$edgeflowPayload";

export interface PayloadRef {
  key: string;
  /** Hex sha256 of the object (the data's JSON), checked when it is read back. */
  sha256: string;
  bytes: number;
}
