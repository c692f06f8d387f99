import { readBodyLimited, parseJson, requireJsonContentType } from "./body.ts";
import { deploymentSettings } from "../config.ts";

/** Content type, then size on the bytes actually read, then strict JSON: in that order. */
export async function readJsonBody(request: Request, env: Cloudflare.Env): Promise<unknown> {
  requireJsonContentType(request);
  const bytes = await readBodyLimited(request, deploymentSettings(env).maxBodyBytes);
  return parseJson(bytes);
}
