/** Sent as `User-Agent: edgeflow/<version>` on every outbound call; keep in step with package.json. */
export const VERSION = "0.6.0";
