/**
 * Connection strings carry passwords (`postgres://user:password@host/db`, or `?password=` in the
 * query). `redactUrl` is the only form of such a location that may be printed, logged, stored or
 * put into an error message.
 */
const SECRET_PARAM = /^(password|passwd|pass|pwd|secret|sslpassword|sslkey|api[-_]?key|token|access[-_]?token)$/i;

/** The password of a URL replaced by `[redacted]`, and secret query parameters likewise; other strings unchanged. */
export function redactUrl(location: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(location);
  if (!match) return location;
  const [, scheme, userinfo = "", rest = "", query = "", fragment = ""] = match;
  // The last @ ends the user info: a password may itself contain @.
  let user = userinfo;
  if (userinfo) {
    const credentials = userinfo.slice(0, -1);
    const colon = credentials.indexOf(":");
    user = colon < 0 ? userinfo : `${credentials.slice(0, colon)}:[redacted]@`;
  }
  const params = query
    ? `?${query
        .slice(1)
        .split("&")
        .map((pair) => {
          const eq = pair.indexOf("=");
          const name = decodeSafely(eq < 0 ? pair : pair.slice(0, eq));
          return eq >= 0 && SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
        })
        .join("&")}`
    : "";
  return `${scheme}${user}${rest}${params}${fragment}`;
}

/** A URL anywhere in a text: scheme, then user info up to the last @ before the host. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):[^\s/?#]*@/gi;

/** `text` with the password of every URL in it redacted, as `redactUrl` does for one URL. */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_PASSWORD, "$1$2:[redacted]@");
}

/**
 * A URL with its user name and password taken out, and what they were (percent-decoded), for
 * clients that send them as a header: fetch refuses URLs that carry credentials, and a URL
 * without them is safe to show. A string that is not a URL comes back unchanged.
 */
export function splitCredentials(location: string): { url: string; username?: string; password?: string } {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return { url: location };
  }
  if (url.username === "" && url.password === "") return { url: location };
  const username = decodeSafely(url.username);
  const password = decodeSafely(url.password);
  url.username = "";
  url.password = "";
  // URL adds a "/" to a bare origin; keep the caller's form.
  const bare = url.toString();
  return { url: location.endsWith("/") || url.pathname !== "/" ? bare : bare.replace(/\/$/, ""), username, password };
}

/** Every occurrence of `secret` in `text` replaced by `[redacted]` (for messages of libraries that may echo it). */
export function scrubSecret(text: string, secret: string | undefined): string {
  return secret && secret.length > 0 ? text.split(secret).join("[redacted]") : text;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
