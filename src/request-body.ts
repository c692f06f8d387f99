import { readBodyLimited, parseJson, requireJsonContentType } from "./body.ts";
import { settings } from "./config.ts";

/** Content type, then size on the bytes actually read, then strict JSON: in that order. */
export async function readJsonBody(request: Request, env: Cloudflare.Env): Promise<unknown> {
  requireJsonContentType(request);
  const bytes = await readBodyLimited(request, settings(env).maxBodyBytes);
  return parseJson(bytes);
}
